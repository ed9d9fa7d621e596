// Issue 15.3 (ALM-16, GBZ 2.1-2019): a toxic-gas detector's rolling 15-minute (STEL) and 8-hour
// (TWA) time-weighted averages against PC-STEL and PC-TWA, as GET /api/devices/:sn/exposure
// computes them from the stored per-minute averages — on the kiosk's trend and the device page.
// Each figure: the average and the limit in the detector's unit, a bar filled to the share of the
// limit (red when over it, or while its EXPOSURE alarm is raised), and how much of the window was
// measured when not all of it was (unmeasured time counts as zero, GBZ 159's fixed window).
import { useEffect, useState } from 'preact/hooks';
import type { ExposureView } from '../../../appliance/contract/exposure.ts';
import { unitLabel } from '../../../appliance/contract/gas.ts';
import { formatNumber, t } from '../i18n/i18n.ts';
import { api, ApiError } from '../lib/api.ts';

export const exposurePath = (sn: string) => `/api/devices/${encodeURIComponent(sn)}/exposure`;
/** The averages move by the minute (per-minute roll-ups): asked again this often while shown. */
const EXPOSURE_REFRESH_MS = 60_000;

/**
 * The exposure figures of `sn`, asked now and every minute; null until they arrive, and when they
 * cannot be read (an appliance without the route, the link down: nothing is shown rather than an
 * old figure as if it were current).
 */
export function useExposure(sn: string): ExposureView | null {
  const [state, setState] = useState<{ sn: string; view: ExposureView | null } | null>(null);
  useEffect(() => {
    let current = true;
    const load = () => api.get<ExposureView>(exposurePath(sn)).then(
      (view) => current && setState({ sn, view }),
      (error: unknown) => {
        if (!current) return;
        setState({ sn, view: null });
        if (!(error instanceof ApiError && error.status === 404)) console.warn('exposure figures not read', error);
      },
    );
    void load();
    const timer = window.setInterval(load, EXPOSURE_REFRESH_MS);
    return () => {
      current = false;
      window.clearInterval(timer);
    };
  }, [sn]);
  return state?.sn === sn ? state.view : null;
}

type Window = ExposureView['stel'];

function ExposureRow(props: { name: 'stel' | 'twa'; window: Window; unit: string }) {
  const { window: w, name } = props;
  const limitName = name === 'stel' ? 'PC-STEL' : 'PC-TWA';
  const unit = unitLabel(props.unit);
  const share = w.average !== null && w.limit ? w.average / w.limit : null;
  const over = w.over || w.alarm_active;
  return (
    <div class={`exposure-row${over ? ' over' : ''}`} data-exposure={name} data-over={String(w.over)} data-alarm={String(w.alarm_active)}
      data-average={w.average ?? ''} data-limit={w.limit ?? ''}>
      <span class="exposure-label">{t(name === 'stel' ? 'exposure.stel' : 'exposure.twa')}</span>
      <span class="exposure-value">
        <strong>{formatNumber(w.average, 2)}</strong> {w.limit !== null ? <>/ {formatNumber(w.limit, 2)} {unit} <small>{limitName}</small></> : <>{unit} <small>{t('exposure.noLimit', { limit: limitName })}</small></>}
      </span>
      {share !== null && (
        <span class="exposure-bar" aria-hidden="true"><span style={{ width: `${Math.min(100, Math.max(0, share * 100))}%` }} /></span>
      )}
      <span class="exposure-note">
        {w.alarm_active ? t('exposure.alarm', { limit: limitName }) : w.over ? t('exposure.over', { limit: limitName }) : share !== null ? t('exposure.share', { pct: formatNumber(share * 100, 0), limit: limitName }) : ''}
        {w.average_mg_m3 !== null && <small> ≈ {formatNumber(w.average_mg_m3, 2)} mg/m³</small>}
        {w.coverage < 0.995 && <small class="exposure-coverage"> · {t('exposure.coverage', { pct: formatNumber(w.coverage * 100, 0) })}</small>}
      </span>
    </div>
  );
}

/** The two figures of a watched detector; for any other, a line saying why there are none (or nothing, `quiet`). */
export function ExposureFigures(props: { view: ExposureView; quiet?: boolean }) {
  const { view } = props;
  if (!view.watched) return props.quiet ? null : <p class="muted" data-exposure="not-watched">{t('exposure.notWatched')}</p>;
  return (
    <div class="exposure" data-exposure-of={view.sn}>
      <ExposureRow name="stel" window={view.stel} unit={view.unit} />
      <ExposureRow name="twa" window={view.twa} unit={view.unit} />
    </div>
  );
}
