// One detector on the plan (UI-2, seed §6.1): its value large enough to read at 3 m and its state
// colour (UI-5, GB 16808) — green ok, red flashing gas alarm, yellow flashing fault, yellow steady
// unprotected (no setpoint), grey offline. A value is never shown as live when it is not: offline,
// older than stale_after_s, or while the kiosk's link is down ("—" instead); a faulted detector's
// concentration is not a measurement ("ERR").
import { Component } from 'preact';
import { t, type Lang } from '../i18n/i18n.ts';
import { valueText, type MarkerLook } from './look.ts';
import { unitLabel } from '../../../appliance/contract/gas.ts';
import { isLowBattery, isWeakSignal } from '../lib/device-condition.ts';

export type { MarkerLook };

export interface MarkerProps {
  sn: string;
  label: string;
  ppm: number | null;
  unit: string;
  look: MarkerLook;
  /** percent of the plan, or null for the unplaced strip */
  x: number | null;
  y: number | null;
  selected: boolean;
  lang: Lang;
  onSelect: (sn: string) => void;
  /** Issue 15.6: the newest reading's battery % and signal dBm, shown as small icons when low/weak */
  bat?: number | null;
  rssi?: number | null;
  /** Issue 15.1: whole minutes the detector's mask has left, shown as "MASKED 12 min"; null: not masked. */
  maskedLeft?: number | null;
}

/** Issue 15.6: a small battery outline, nearly empty. */
const LowBatteryIcon = () => (
  <svg class="marker-icon" viewBox="0 0 24 12" aria-hidden="true"><rect x="1" y="1" width="19" height="10" rx="2" fill="none" stroke="currentColor" stroke-width="2" /><rect x="21" y="4" width="2" height="4" fill="currentColor" /><rect x="3" y="3" width="3" height="6" fill="#ff7b72" /></svg>
);
/** Issue 15.6: signal bars, one of four lit. */
const WeakSignalIcon = () => (
  <svg class="marker-icon" viewBox="0 0 16 12" aria-hidden="true"><rect x="0" y="9" width="3" height="3" fill="currentColor" /><rect x="4" y="6" width="3" height="6" fill="currentColor" opacity=".3" /><rect x="8" y="3" width="3" height="9" fill="currentColor" opacity=".3" /><rect x="12" y="0" width="3" height="12" fill="currentColor" opacity=".3" /></svg>
);

const STATE_TEXT = {
  ok: 'kiosk.state.ok', alarm: 'kiosk.state.alarm', fault: 'kiosk.state.fault', unprotected: 'kiosk.state.unprotected',
  offline: 'kiosk.state.offline', stale: 'kiosk.state.stale', nolink: 'kiosk.state.nolink', masked: 'kiosk.state.masked',
} as const;

/** A class with shouldComponentUpdate: 500 markers a second re-render only those whose props changed. */
export class Marker extends Component<MarkerProps> {
  override shouldComponentUpdate(next: MarkerProps): boolean {
    const p = this.props;
    return p.ppm !== next.ppm || p.look !== next.look || p.x !== next.x || p.y !== next.y || p.selected !== next.selected || p.lang !== next.lang || p.label !== next.label || p.bat !== next.bat || p.rssi !== next.rssi || p.maskedLeft !== next.maskedLeft;
  }

  render() {
    const { sn, label, ppm, unit, look, x, y, selected } = this.props;
    const placed = x !== null && y !== null;
    return (
      <button
        type="button"
        class={`marker look-${look}${selected ? ' selected' : ''}${placed ? ' placed' : ''}`}
        style={placed ? { left: `${x}%`, top: `${y}%` } : undefined}
        data-sn={sn}
        data-look={look}
        data-masked={look === 'masked' ? 'yes' : undefined}
        title={`${sn} ${label}`}
        onClick={() => this.props.onSelect(sn)}
      >
        <span class="marker-value">{valueText(ppm, look)}</span>
        <span class="marker-unit">{look === 'fault' ? '' : unitLabel(unit)}</span>
        <span class="marker-name">{label || sn}</span>
        <span class="marker-state">{t(STATE_TEXT[look])}
          {look === 'masked' && this.props.maskedLeft != null && <span class="marker-mask-left" data-mask-left={this.props.maskedLeft}> {t('kiosk.maskLeft', { n: this.props.maskedLeft })}</span>}
          {isLowBattery(this.props.bat) && <span class="marker-flag" data-flag="low-battery" title={t('device.batteryLow')}><LowBatteryIcon /></span>}
          {isWeakSignal(this.props.rssi) && <span class="marker-flag" data-flag="weak-signal" title={t('device.signalWeak')}><WeakSignalIcon /></span>}
        </span>
      </button>
    );
  }
}
