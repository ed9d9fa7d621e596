// One detector on the plan (UI-2, seed §6.1): its value large enough to read at 3 m and its state
// colour — green ok, red blinking alarm, grey offline. A value is never shown as live when it is
// not: offline, older than stale_after_s, or while the kiosk's link is down ("—" instead).
import { Component } from 'preact';
import { t, type Lang } from '../i18n/i18n.ts';

export type MarkerLook = 'ok' | 'alarm' | 'offline' | 'stale' | 'nolink';

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

/** The value text: only an ok or alarm reading on a live link shows a number. */
export function valueText(ppm: number | null, look: MarkerLook): string {
  if (ppm === null || look === 'offline' || look === 'stale' || look === 'nolink') return '—';
  return ppm >= 100 ? String(Math.round(ppm)) : String(Math.round(ppm * 10) / 10);
}

const STATE_TEXT = { ok: 'kiosk.state.ok', alarm: 'kiosk.state.alarm', offline: 'kiosk.state.offline', stale: 'kiosk.state.stale', nolink: 'kiosk.state.nolink' } as const;

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
        <span class="marker-unit">{unit}</span>
        <span class="marker-name">{label || sn}</span>
        <span class="marker-state">{t(STATE_TEXT[look])}</span>
      </button>
    );
  }
}
