// UI-3 data query (UI-4): a device and a time range → the server's bucketed history as a chart
// (the server picks the bucket from the range, so 7 days are ~2,000 points, never raw rows), and
// the raw readings as CSV (at most 7 days per file).
import { useMemo, useState } from 'preact/hooks';
import type { DeviceView } from '../../../appliance/contract/device.ts';
import { LineChart, type Series } from '../charts/LineChart.tsx';
import { formatNumber, t, type TextKey } from '../i18n/i18n.ts';
import { api, download, query } from '../lib/api.ts';
import { Field, inputValue, Notice, useAction, useLoad } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';

interface History {
  sn: string;
  start: string;
  end: string;
  interval: string;
  points: { ts: string; ppm: number; min: number; max: number; count: number }[];
}

const PRESETS: { key: TextKey; ms: number }[] = [
  { key: 'data.1h', ms: 3_600_000 },
  { key: 'data.6h', ms: 6 * 3_600_000 },
  { key: 'data.24h', ms: 86_400_000 },
  { key: 'data.3d', ms: 3 * 86_400_000 },
  { key: 'data.7d', ms: 7 * 86_400_000 },
  { key: 'data.30d', ms: 30 * 86_400_000 },
];
const RAW_EXPORT_MAX_MS = 7 * 86_400_000;

/** datetime-local text (local time) ↔ epoch ms */
const localInput = (ms: number) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};

export function DataPage(_props: PageProps) {
  const devices = useLoad(() => api.get<{ data: DeviceView[] }>('/api/devices?size=500'), []);
  const [sn, setSn] = useState('');
  const [range, setRange] = useState(() => ({ from: Date.now() - 86_400_000, to: Date.now() }));
  const [preset, setPreset] = useState<number | null>(86_400_000);
  const [history, setHistory] = useState<History | null>(null);
  const action = useAction();
  const device = devices.data?.data.find((d) => d.sn === sn) ?? null;

  const run = (from = range.from, to = range.to) => {
    if (!sn) return;
    void action.run(async () => setHistory(await api.get<History>(`/api/devices/${encodeURIComponent(sn)}/history${query({ start: new Date(from).toISOString(), end: new Date(to).toISOString() })}`)));
  };
  const choosePreset = (ms: number) => {
    const now = Date.now();
    setPreset(ms);
    setRange({ from: now - ms, to: now });
    run(now - ms, now);
  };
  const series = useMemo<Series[]>(() => {
    if (!history) return [];
    const xs = history.points.map((p) => Date.parse(p.ts));
    return [
      { label: t('data.avg'), color: '#58a6ff', points: history.points.map((p, i) => ({ x: xs[i], y: p.ppm })) },
      { label: t('data.max'), color: '#f0883e', dashed: true, points: history.points.map((p, i) => ({ x: xs[i], y: p.max })) },
    ];
  }, [history]);
  const summary = history && history.points.length > 0 ? {
    min: Math.min(...history.points.map((p) => p.min)),
    max: Math.max(...history.points.map((p) => p.max)),
    avg: history.points.reduce((s, p) => s + p.ppm * p.count, 0) / Math.max(1, history.points.reduce((s, p) => s + p.count, 0)),
    readings: history.points.reduce((s, p) => s + p.count, 0),
  } : null;
  const tooLongForCsv = range.to - range.from > RAW_EXPORT_MAX_MS;

  return (
    <section>
      <h1>{t('nav.data')}</h1>
      <div class="card">
        <div class="form-grid">
          <Field label={t('data.device')}>
            <select name="device" value={sn} onChange={(e) => setSn(inputValue(e))}>
              <option value="">{t('data.chooseDevice')}</option>
              {devices.data?.data.map((d) => <option key={d.sn} value={d.sn}>{d.sn}{d.name ? ` · ${d.name}` : ''}</option>)}
            </select>
          </Field>
          <Field label={t('common.from')}>
            <input type="datetime-local" name="start" value={localInput(range.from)} onInput={(e) => (setPreset(null), setRange({ ...range, from: Date.parse(inputValue(e)) }))} />
          </Field>
          <Field label={t('common.to')}>
            <input type="datetime-local" name="end" value={localInput(range.to)} onInput={(e) => (setPreset(null), setRange({ ...range, to: Date.parse(inputValue(e)) }))} />
          </Field>
        </div>
        <div class="row wrap">
          {PRESETS.map((p) => (
            <button key={p.key} type="button" class={preset === p.ms ? 'active' : ''} disabled={!sn} onClick={() => choosePreset(p.ms)}>{t(p.key)}</button>
          ))}
          <span class="spacer" />
          <button type="button" class="primary" data-action="query" disabled={!sn || action.busy} onClick={() => run()}>{t('data.query')}</button>
          <button type="button" data-action="export-readings" disabled={!sn || tooLongForCsv}
            title={tooLongForCsv ? t('data.csvMax') : ''}
            onClick={() => void action.run(() => download(`/api/devices/${encodeURIComponent(sn)}/export${query({ start: new Date(range.from).toISOString(), end: new Date(range.to).toISOString() })}`, `${sn}.csv`))}>
            {t('common.exportCsv')}
          </button>
        </div>
        <Notice error={devices.error ?? action.error} />
      </div>
      {history && (
        <div class="card" data-history={history.sn} data-points={history.points.length}>
          <h2>{history.sn} <small class="muted">{t('data.bucket', { interval: history.interval, n: history.points.length })}</small></h2>
          {summary ? (
            <>
              <dl class="facts inline">
                <dt>{t('data.min')}</dt><dd>{formatNumber(summary.min)}</dd>
                <dt>{t('data.avg')}</dt><dd>{formatNumber(summary.avg)}</dd>
                <dt>{t('data.max')}</dt><dd>{formatNumber(summary.max)}</dd>
                <dt>{t('data.readings')}</dt><dd>{summary.readings}</dd>
              </dl>
              <LineChart series={series} yLabel={device?.unit ?? 'ppm'} limit={device?.high_limit ?? null} class="data-chart"
                xMin={Date.parse(history.start)} xMax={Date.parse(history.end)} />
            </>
          ) : <p class="muted">{t('data.noData')}</p>}
        </div>
      )}
    </section>
  );
}
