// One detector on the plan (UI-2, seed §6.1): its value large enough to read at 3 m and its state
// colour (UI-5, GB 16808) — green ok, red flashing gas alarm, yellow flashing fault, yellow steady
// unprotected (no setpoint), grey offline. A value is never shown as live when it is not: offline,
// older than stale_after_s, or while the kiosk's link is down ("—" instead); a faulted detector's
// concentration is not a measurement ("ERR").
import { Component } from 'preact';
import { t, type Lang } from '../i18n/i18n.ts';
import { valueText, type MarkerLook } from './look.ts';

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
}

const STATE_TEXT = {
  ok: 'kiosk.state.ok', alarm: 'kiosk.state.alarm', fault: 'kiosk.state.fault', unprotected: 'kiosk.state.unprotected',
  offline: 'kiosk.state.offline', stale: 'kiosk.state.stale', nolink: 'kiosk.state.nolink',
} as const;

/** A class with shouldComponentUpdate: 500 markers a second re-render only those whose props changed. */
export class Marker extends Component<MarkerProps> {
  override shouldComponentUpdate(next: MarkerProps): boolean {
    const p = this.props;
    return p.ppm !== next.ppm || p.look !== next.look || p.x !== next.x || p.y !== next.y || p.selected !== next.selected || p.lang !== next.lang || p.label !== next.label;
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
        title={`${sn} ${label}`}
        onClick={() => this.props.onSelect(sn)}
      >
        <span class="marker-value">{valueText(ppm, look)}</span>
        <span class="marker-unit">{look === 'fault' ? '' : unit}</span>
        <span class="marker-name">{label || sn}</span>
        <span class="marker-state">{t(STATE_TEXT[look])}</span>
      </button>
    );
  }
}
