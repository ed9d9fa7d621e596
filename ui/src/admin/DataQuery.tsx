// UI-3 data query (UI-4): several devices on one chart over a span; zoom (drag a span, wheel,
// pinch, or the buttons) and pan, and the chart asks the server again for the span it now shows
// at the bucket interval that gives a few hundred points (lib/zoom-interval.ts; the server
// buckets, STO-5). The shown devices' alarm episodes are shaded spans, their setpoints dashed
// lines, times are on the site's 24-hour clock (OPS-5), and the CSV is exactly what is shown:
// the same devices, span and interval, written by the server (GET /api/devices/history.csv).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { DeviceView } from '../../../appliance/contract/device.ts';
import type { AlarmView } from '../../../appliance/contract/live.ts';
import { QueryChart, type AlarmSpan, type DeviceSeries, type Setpoint, type SetpointKind, type View } from '../charts/QueryChart.tsx';
import { siteClock } from '../charts/time-axis.ts';
import { formatNumber, formatTime, t, type TextKey } from '../i18n/i18n.ts';
import { api, download, query } from '../lib/api.ts';
import { Field, inputValue, Notice, useAction, useLoad, useSiteTimezone } from '../lib/ui.tsx';
import { clampView, intervalForSpan, type QueryInterval } from '../lib/zoom-interval.ts';
import type { PageProps } from './AdminApp.tsx';

interface History {
  sn: string;
  start: string;
  end: string;
  interval: string;
  points: { ts: string; ppm: number; min: number; max: number; count: number }[];
}

/** What the chart shows: the devices, span and interval asked for, and the answers. */
interface Shown {
  sns: string[];
  view: View;
  interval: QueryInterval;
  histories: History[];
  alarms: AlarmView[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PRESETS: { key: TextKey; ms: number }[] = [
  { key: 'data.1h', ms: HOUR },
  { key: 'data.6h', ms: 6 * HOUR },
  { key: 'data.24h', ms: DAY },
  { key: 'data.3d', ms: 3 * DAY },
  { key: 'data.7d', ms: 7 * DAY },
  { key: 'data.30d', ms: 30 * DAY },
];
/** Distinct on the dark theme and to most colour-blind eyes; one per device on the chart. */
const COLORS = ['#58a6ff', '#f0883e', '#3fb950', '#d2a8ff', '#ffd33d', '#ff7b72', '#39c5cf', '#db61a2'];
/** A chart stays readable (and the CSV request within the server's limit of 8). */
export const MAX_DEVICES = 8;
/** How far back an alarm that overlaps the span may have started (the list filters by start time). */
const ALARM_LOOKBACK_MS = 7 * DAY;
const SETPOINTS: SetpointKind[] = ['high2_limit', 'high_limit', 'low_limit'];
const SETPOINT_TEXT: Record<SetpointKind, TextKey> = { high2_limit: 'data.high2', high_limit: 'data.high1', low_limit: 'data.low' };

const isoOf = (ms: number) => new Date(ms).toISOString();

/** datetime-local text on the site's clock ↔ epoch ms. */
function siteInput(ms: number, timezone: string | null): string {
  return new Date(ms + siteClock(timezone).offsetAt(ms)).toISOString().slice(0, 16);
}
function fromSiteInput(text: string, timezone: string | null): number {
  const wall = Date.parse(`${text}:00Z`);
  if (!Number.isFinite(wall)) return NaN;
  const clock = siteClock(timezone);
  return wall - clock.offsetAt(wall - clock.offsetAt(wall)); // twice: the offset at the instant, not at the wall time read as UTC
}

/** The device's colour on the chart, beside its name. */
const Swatch = (props: { color: string }) => (
  <span aria-hidden="true" style={{ display: 'inline-block', width: '.8em', height: '.8em', borderRadius: '2px', marginRight: '.4em', background: props.color }} />
);

export function DataPage(_props: PageProps) {
  const timezone = useSiteTimezone();
  const devices = useLoad(() => api.get<{ data: DeviceView[] }>('/api/devices?size=500'), []);
  const [sns, setSns] = useState<string[]>([]);
  const [view, setView] = useState<View>(() => ({ from: Date.now() - DAY, to: Date.now() }));
  const [preset, setPreset] = useState<number | null>(DAY);
  const [shown, setShown] = useState<Shown | null>(null);
  const action = useAction();
  const csv = useAction();
  const asked = useRef(0);
  const deviceOf = (sn: string) => devices.data?.data.find((d) => d.sn === sn);
  const colorOf = (sn: string) => COLORS[Math.max(0, sns.indexOf(sn)) % COLORS.length];

  // Every change of devices or span asks again; only the newest answer is shown.
  useEffect(() => {
    if (sns.length === 0) return;
    const request = ++asked.current;
    const interval = intervalForSpan(view.to - view.from);
    const range = { start: isoOf(view.from), end: isoOf(view.to) };
    void action.run(async () => {
      const [histories, alarmLists] = await Promise.all([
        Promise.all(sns.map((sn) => api.get<History>(`/api/devices/${encodeURIComponent(sn)}/history${query({ ...range, interval })}`))),
        Promise.all(sns.map((sn) => api.get<{ data: AlarmView[] }>(`/api/alarms${query({ sn, start: isoOf(view.from - ALARM_LOOKBACK_MS), end: range.end, size: 500 })}`))),
      ]);
      if (request !== asked.current) return;
      // Episodes that overlap the span: started before its end (the query) and not cleared before its start.
      const alarms = alarmLists.flatMap((list) => list.data).filter((a) => a.cleared_at === null || Date.parse(a.cleared_at) >= view.from);
      setShown({ sns, view, interval, histories, alarms });
    });
  }, [sns.join(','), view.from, view.to]);

  const showView = (next: View) => {
    setPreset(null);
    setView(clampView(next, Date.now()));
  };
  const choosePreset = (ms: number) => {
    const now = Date.now();
    setPreset(ms);
    setView({ from: now - ms, to: now });
  };
  const zoomBy = (factor: number) => {
    const mid = (view.from + view.to) / 2;
    const half = ((view.to - view.from) * factor) / 2;
    showView({ from: mid - half, to: mid + half });
  };
  const panBy = (fraction: number) => {
    const step = (view.to - view.from) * fraction;
    showView({ from: view.from + step, to: view.to + step });
  };
  const addDevice = (sn: string) => sn && !sns.includes(sn) && sns.length < MAX_DEVICES && setSns([...sns, sn]);

  const chart = useMemo(() => {
    if (!shown) return null;
    const series: DeviceSeries[] = shown.histories.map((h) => ({
      sn: h.sn, color: colorOf(h.sn), label: deviceOf(h.sn)?.name ? `${h.sn} · ${deviceOf(h.sn)!.name}` : h.sn,
      points: h.points.map((p) => ({ x: Date.parse(p.ts), y: p.ppm })),
    }));
    const setpoints: Setpoint[] = shown.sns.flatMap((sn) => {
      const device = deviceOf(sn);
      return SETPOINTS.flatMap((kind) => {
        const value = device?.[kind];
        return value === null || value === undefined ? [] : [{ sn, kind, value, color: colorOf(sn), label: `${sn} ${t(SETPOINT_TEXT[kind])}` }];
      });
    });
    const now = Date.now();
    const spans: AlarmSpan[] = shown.alarms.map((a) => ({
      id: a.id, sn: a.sn ?? a.source, type: a.type, level: a.level, from: Date.parse(a.triggered_at),
      to: a.cleared_at === null ? now : Date.parse(a.cleared_at), active: a.cleared_at === null,
    }));
    return { series, setpoints, spans };
  }, [shown, devices.data]);

  const units = [...new Set(sns.map((sn) => deviceOf(sn)?.unit ?? 'ppm'))];
  const summaries = shown?.histories.map((h) => {
    const readings = h.points.reduce((s, p) => s + p.count, 0);
    return {
      sn: h.sn,
      readings,
      min: h.points.length ? Math.min(...h.points.map((p) => p.min)) : null,
      max: h.points.length ? Math.max(...h.points.map((p) => p.max)) : null,
      avg: readings ? h.points.reduce((s, p) => s + p.ppm * p.count, 0) / readings : null,
      alarms: shown.alarms.filter((a) => (a.sn ?? a.source) === h.sn).length,
    };
  });
  const downloadRaw = () => shown && void csv.run(async () => {
    for (const sn of shown.sns) {
      await download(`/api/devices/${encodeURIComponent(sn)}/export${query({ start: isoOf(shown.view.from), end: isoOf(shown.view.to) })}`, `${sn}.csv`);
    }
  });
  const downloadShown = () => shown && void csv.run(() => download(
    `/api/devices/history.csv${query({ sn: shown.sns.join(','), start: isoOf(shown.view.from), end: isoOf(shown.view.to), interval: shown.interval })}`,
    'history.csv',
  ));

  return (
    <section>
      <h1>{t('nav.data')}</h1>
      <div class="card">
        <div class="form-grid">
          <Field label={t('data.devices')} hint={sns.length >= MAX_DEVICES ? t('data.maxDevices', { n: MAX_DEVICES }) : undefined}>
            <select name="device" value="" disabled={sns.length >= MAX_DEVICES} onChange={(e) => addDevice(inputValue(e))}>
              <option value="">{t('data.addDevice')}</option>
              {devices.data?.data.filter((d) => !sns.includes(d.sn)).map((d) => <option key={d.sn} value={d.sn}>{d.sn}{d.name ? ` · ${d.name}` : ''}</option>)}
            </select>
          </Field>
          <Field label={t('common.from')}>
            <input type="datetime-local" name="start" value={siteInput(view.from, timezone)}
              onChange={(e) => Number.isFinite(fromSiteInput(inputValue(e), timezone)) && showView({ ...view, from: fromSiteInput(inputValue(e), timezone) })} />
          </Field>
          <Field label={t('common.to')}>
            <input type="datetime-local" name="end" value={siteInput(view.to, timezone)}
              onChange={(e) => Number.isFinite(fromSiteInput(inputValue(e), timezone)) && showView({ ...view, to: fromSiteInput(inputValue(e), timezone) })} />
          </Field>
        </div>
        <div class="row wrap" data-shown-devices={sns.join(',')}>
          {sns.map((sn) => (
            <span key={sn} class="pill" data-device={sn}>
              <Swatch color={colorOf(sn)} />
              {sn}{deviceOf(sn)?.name ? ` · ${deviceOf(sn)!.name}` : ''}
              <button type="button" class="link" style={{ marginLeft: '.4em' }} aria-label={t('data.remove', { sn })} onClick={() => setSns(sns.filter((s) => s !== sn))}>×</button>
            </span>
          ))}
        </div>
        <div class="row wrap">
          {PRESETS.map((p) => (
            <button key={p.key} type="button" data-preset={p.ms} class={preset === p.ms ? 'active' : ''} onClick={() => choosePreset(p.ms)}>{t(p.key)}</button>
          ))}
          <span class="spacer" />
          <button type="button" data-action="pan-earlier" title={t('data.earlier')} onClick={() => panBy(-0.5)}>‹</button>
          <button type="button" data-action="zoom-out" onClick={() => zoomBy(2)}>{t('data.zoomOut')}</button>
          <button type="button" data-action="pan-later" title={t('data.later')} onClick={() => panBy(0.5)}>›</button>
          <button type="button" data-action="export-shown" disabled={!shown || csv.busy} onClick={downloadShown}>{t('data.csvShown')}</button>
          {/* UI-3: the raw readings (ARC-1 columns) of the shown devices over the shown span, one file each; the server allows 7 days per file. */}
          <button type="button" data-action="export-readings" disabled={!shown || csv.busy || view.to - view.from > 7 * DAY}
            title={view.to - view.from > 7 * DAY ? t('data.csvMax') : ''} onClick={downloadRaw}>{t('data.csvRaw')}</button>
        </div>
        <Notice error={devices.error ?? action.error ?? csv.error} />
      </div>
      {sns.length === 0 ? <p class="muted">{t('data.chooseDevice')}</p> : shown && chart && (
        <div class="card" data-query-view={`${shown.view.from}-${shown.view.to}`} data-interval={shown.interval} data-busy={action.busy ? 'yes' : 'no'}>
          <h2>
            {formatTime(shown.view.from, false)} – {formatTime(shown.view.to, false)}{' '}
            <small class="muted">{t('data.bucket', { interval: shown.interval, n: Math.max(0, ...shown.histories.map((h) => h.points.length)) })}</small>
          </h2>
          <QueryChart series={chart.series} setpoints={chart.setpoints} spans={chart.spans} view={view} timezone={timezone} yLabel={units.join(' / ')}
            onView={showView} class="data-chart" />
          <p class="muted small">{t('data.help')}{timezone ? ` ${t('journal.timezone', { tz: timezone })}` : ''}</p>
          <table class="table compact">
            <thead>
              <tr><th>{t('data.device')}</th><th>{t('data.min')}</th><th>{t('data.avg')}</th><th>{t('data.max')}</th><th>{t('data.readings')}</th><th>{t('data.alarms')}</th></tr>
            </thead>
            <tbody>
              {summaries!.map((s) => (
                <tr key={s.sn} data-summary={s.sn}>
                  <td><Swatch color={colorOf(s.sn)} />{s.sn}</td>
                  <td>{formatNumber(s.min)}</td><td>{formatNumber(s.avg)}</td><td>{formatNumber(s.max)}</td><td>{s.readings}</td><td>{s.alarms}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {shown.histories.every((h) => h.points.length === 0) && <p class="muted">{t('data.noData')}</p>}
        </div>
      )}
    </section>
  );
}
