// UI-2: click a device → its last hour (API-6 `subscribe` → `history`, 1 point a minute), with
// the high limit drawn. The history is asked again every minute while the panel is open.
// Issue 15.3 (ALM-16): a toxic-gas detector's trend also shows its 15-minute (STEL) and 8-hour (TWA)
// averages against PC-STEL / PC-TWA (GBZ 2.1-2019), read with the kiosk's own (viewer) token.
import { useMemo } from 'preact/hooks';
import type { LiveDeviceInfo } from '../../../appliance/contract/live.ts';
import { LineChart, type Series } from '../charts/LineChart.tsx';
import { t } from '../i18n/i18n.ts';
import { unitLabel } from '../../../appliance/contract/gas.ts';
import { ExposureFigures, useExposure } from './Exposure.tsx';
import type { HistoryPoint } from './fleet.ts';

export function TrendPanel(props: { device: LiveDeviceInfo; points: HistoryPoint[] | null; serverNow: number; onClose: () => void }) {
  const { device, points } = props;
  const exposure = useExposure(device.sn);
  // The window is the last hour on the server's clock, fixed when the history arrived.
  const xMax = useMemo(() => props.serverNow, [points]);
  const series = useMemo<Series[]>(() => (points ? [{
    label: 'ppm', color: '#3fb950', fill: 'origin',
    points: points.map((p) => ({ x: Date.parse(p.ts), y: p.max })),
  }] : []), [points]);
  return (
    <section class="kiosk-trend" data-trend={device.sn} data-exposure-state={exposure ? (exposure.watched ? 'watched' : 'not-watched') : 'none'}>
      <header>
        <h2>{device.name || device.sn} <small>{device.sn}</small></h2>
        <span class="trend-caption">{t('kiosk.lastHour')} · {unitLabel(device.unit)}</span>
        <button type="button" class="close" onClick={props.onClose} aria-label={t('common.close')}>×</button>
      </header>
      {exposure && <ExposureFigures view={exposure} quiet />}
      {points === null && <p class="empty">{t('common.loading')}</p>}
      {points !== null && points.length === 0 && <p class="empty">{t('kiosk.noHistory')}</p>}
      {points !== null && points.length > 0 && <LineChart series={series} limit={device.high_limit} big class="trend-chart" xMin={xMax - 3_600_000} xMax={xMax} />}
    </section>
  );
}
