// Issue 15.6: one detector's page at /admin/devices/<sn>, readable on a phone at the detector
// (390 px wide): its value in its unit (ALM-9, the gas catalogue's label and companion unit) with the
// level setpoints, its state, the battery, signal, temperature and humidity of its newest reading,
// firmware, when the last reading arrived (not when it connected), packet loss (ING-4 sequence gaps)
// and clock skew (ING-5), its alarm history with each record's journal (ALM-12), calibration records
// and due date (JJG 693-2011), exposure (GBZ 2.1-2019) where the appliance offers them, and the
// commands, each confirmed before it goes out. Issue 15.1: its MASKED badge with the minutes left,
// and Mask… / Unmask for operators.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { DeviceView } from '../../../appliance/contract/device.ts';
import type { CalibrationRecordView, DueRowView, DueState, IntervalsInput } from '../../../appliance/contract/calibration.ts';
import type { ExposureView } from '../../../appliance/contract/exposure.ts';
import type { AlarmView } from '../../../appliance/contract/live.ts';
import type { MaskView } from '../../../appliance/contract/masking.ts';
import { companionUnit, convert, unitLabel } from '../../../appliance/contract/gas.ts';
import { formatNumber, formatTime, lang, t, type TextKey } from '../i18n/i18n.ts';
import { alarmTypeText } from '../kiosk/AlarmList.tsx';
import { ExposureFigures, exposurePath } from '../kiosk/Exposure.tsx';
import { alarmValueText } from '../lib/alarm-value.ts';
import { api, ApiError } from '../lib/api.ts';
import { isLowBattery, isWeakSignal } from '../lib/device-condition.ts';
import { linkClick } from '../lib/router.ts';
import { can } from '../lib/session.ts';
import { Notice, useAction, useLoad } from '../lib/ui.tsx';
import type { PageProps } from './AdminApp.tsx';
import { IsaStatePill, LevelChip, useSiteTimezone } from './AlarmJournal.tsx';
import { DeviceCommands } from './DeviceCommands.tsx';
import { gasName } from './DeviceForm.tsx';
import { MaskBadge, MaskDialog, stateText, unmask, useMasks } from './Devices.tsx';

const REFRESH_MS = 5000;
const ALARMS_SHOWN = 20;
export const devicePath = (sn: string) => `/admin/devices/${encodeURIComponent(sn)}`;
/** Issue 15.2 / 15.3 routes built by other stages: absent (404) on an appliance without them. */
const calibrationPath = (sn: string) => `/api/calibration/devices/${encodeURIComponent(sn)}`;

type Optional = { available: false } | { available: true; data: unknown };

/** A section whose route may not exist on this appliance: 404 reads "not available", other errors show. */
async function optional(path: string): Promise<Optional> {
  try {
    return { available: true, data: await api.get<unknown>(path) };
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { available: false };
    throw error;
  }
}

function Figure(props: { name: string; label: string; children: ComponentChildren; warn?: boolean }) {
  return (
    <div class={`figure${props.warn ? ' warn' : ''}`} data-figure={props.name}>
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

const dash = '—';
const withUnit = (value: number | null, unit: string, digits = 1) => (value === null ? dash : `${formatNumber(value, digits)} ${unit}`);

function ValueBlock({ device, mask }: { device: DeviceView; mask: MaskView | null }) {
  const live = device.status === 'online' && device.state !== 'fault' && device.last_ppm !== null;
  const other = companionUnit(device.gas, device.unit);
  const converted = live && other !== null ? convert(device.last_ppm!, device.unit, other, device.gas) : null;
  const unit = unitLabel(device.unit);
  const setpoints: [TextKey, string, number | null][] = [
    ['device.level1', 'high_limit', device.high_limit], ['device.level2', 'high2_limit', device.high2_limit], ['device.low', 'low_limit', device.low_limit],
  ];
  return (
    <div class={`device-value state-${device.state}`}>
      <div class="device-reading" data-figure="value">
        <span class="big">{live ? formatNumber(device.last_ppm) : device.state === 'fault' ? 'ERR' : dash}</span>{' '}
        <span class="unit" data-unit={device.unit}>{unit}</span>
        {converted !== null && <small class="muted" data-converted={other}> ≈ {formatNumber(Number(converted.toPrecision(3)))} {unitLabel(other!)}</small>}
      </div>
      <div class="device-state"><span class={`pill pill-${device.state}`} data-state={device.state}>{stateText(device)}</span>{device.alarms.length > 0 && <small> {device.alarms.join(', ')}</small>} <MaskBadge mask={mask} /></div>
      <dl class="setpoints" data-figure="setpoints">
        {setpoints.filter(([, , value]) => value !== null).map(([label, field, value]) => (
          <div key={field} data-setpoint={field}><dt>{t(label)}</dt><dd>{formatNumber(value, 2)} {unit}</dd></div>
        ))}
        {device.kind !== 'output' && device.high_limit === null && device.low_limit === null && <div><dt>{t('device.setpoints')}</dt><dd>{t('kiosk.state.unprotected')}</dd></div>}
      </dl>
    </div>
  );
}

function skewText(ms: number | null): string {
  if (ms === null) return dash;
  const seconds = Math.round(ms / 100) / 10;
  if (seconds === 0) return '0 s';
  return `${seconds > 0 ? '+' : ''}${formatNumber(seconds)} s (${t(seconds > 0 ? 'device.skewAhead' : 'device.skewBehind')})`;
}

function Figures({ device }: { device: DeviceView }) {
  const lowBattery = isLowBattery(device.bat);
  const weakSignal = isWeakSignal(device.rssi);
  return (
    <dl class="device-figures">
      <Figure name="battery" label={t('device.battery')} warn={lowBattery}>{withUnit(device.bat, '%', 0)}{lowBattery && <small> {t('device.batteryLow')}</small>}</Figure>
      <Figure name="signal" label={t('device.signal')} warn={weakSignal}>{withUnit(device.rssi, 'dBm', 0)}{weakSignal && <small> {t('device.signalWeak')}</small>}</Figure>
      <Figure name="temperature" label={t('device.temperature')}>{withUnit(device.temp, '°C')}</Figure>
      <Figure name="humidity" label={t('device.humidity')}>{withUnit(device.humi, '% RH', 0)}</Figure>
      <Figure name="firmware" label={t('device.firmware')}>{device.firmware ?? dash}</Figure>
      <Figure name="last-reading" label={t('device.lastReading')}>{formatTime(device.last_received_at)}</Figure>
      <Figure name="last-seen" label={t('device.lastSeen')}>{formatTime(device.last_seen)}</Figure>
      <Figure name="loss" label={t('device.loss')} warn={(device.packet_loss_pct ?? 0) >= 5}>
        {device.packet_loss_pct === null ? dash : `${formatNumber(device.packet_loss_pct, 2)} %`}
        {device.packet_loss_pct !== null && device.missing_readings > 0 && <small> {t('device.lossDetail', { missing: device.missing_readings })}</small>}
      </Figure>
      <Figure name="skew" label={t('device.skew')}>{skewText(device.clock_skew_ms)}</Figure>
    </dl>
  );
}

function AlarmHistory({ sn, unit }: { sn: string; unit: string }) {
  const list = useLoad(() => api.get<{ total: number; data: AlarmView[] }>(`/api/alarms?sn=${encodeURIComponent(sn)}&size=${ALARMS_SHOWN}`), [sn]);
  useEffect(() => {
    const timer = window.setInterval(list.reload, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, []);
  return (
    <section class="device-section" data-section="alarms">
      <h2>{t('device.alarms')}{list.data && list.data.total > 0 && <small class="muted"> ({list.data.total})</small>}</h2>
      <Notice error={list.error} />
      {list.data && list.data.data.length === 0 && <p class="empty">{t('device.noAlarms')}</p>}
      <ul class="device-alarms">
        {list.data?.data.map((a) => {
          const path = `/admin/alarms/${a.id}`;
          const value = alarmValueText(a, lang(), a.unit ?? unit);
          return (
            <li key={a.id} data-alarm={a.id}>
              <a href={path} data-action="journal" onClick={(e) => linkClick(e, path)}>{alarmTypeText(a.type)}</a> <LevelChip level={a.level} /> <IsaStatePill state={a.isa_state} />
              <div class="muted">{formatTime(a.triggered_at)}{a.cleared_at ? ` – ${formatTime(a.cleared_at)}` : ''}{value ? ` · ${value}` : ''}</div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

const DUE_PILL: Record<DueState, string> = { ok: 'pill-ok', due: 'pill-fault', overdue: 'pill-alarm' };

function DueDate({ at, state }: { at: string | null; state: DueState | null }) {
  if (at === null || state === null) return <>{dash}</>;
  return <span data-due={state}>{formatTime(at, false)} <span class={`pill ${DUE_PILL[state]}`}>{t(`cal.state.${state}`)}</span></span>;
}

/**
 * Issue 15.2 (JJG 693-2011): the detector's last calibration and bump test, when the next fall due
 * (due soon yellow, overdue red, as on the calibration page), and its records, newest first.
 */
function CalibrationSection({ sn }: { sn: string }) {
  const loaded = useLoad(() => optional(calibrationPath(sn)), [sn]);
  const data = loaded.data?.available ? (loaded.data.data as { due: DueRowView; intervals: IntervalsInput; records: CalibrationRecordView[] }) : null;
  const due = data?.due;
  return (
    <section class="device-section" data-section="calibration" data-available={loaded.data ? String(loaded.data.available) : ''}>
      <h2>{t('device.calibration')}</h2>
      <Notice error={loaded.error} />
      {loaded.data && !loaded.data.available && <p class="muted" data-not-available>{t('device.notAvailable')}</p>}
      {due && (
        <dl class="device-figures">
          <Figure name="last-calibration" label={t('cal.lastCalibration')}>{formatTime(due.last_calibration_at, false)}</Figure>
          <div class={`figure${due.calibration_state !== 'ok' ? ' warn' : ''}`} data-calibration="due">
            <dt>{t('device.calibrationDue')}</dt>
            <dd><DueDate at={due.calibration_due_at} state={due.calibration_state} /> <small class="muted">{t('device.calibrationInterval', { days: due.calibration_days })}</small></dd>
          </div>
          {due.bump_test_days > 0 && <Figure name="last-bump-test" label={t('cal.lastBump')}>{formatTime(due.last_bump_test_at, false)}</Figure>}
          {due.bump_test_days > 0 && (
            <div class={`figure${due.bump_test_state === 'overdue' ? ' warn' : ''}`} data-calibration="bump-due">
              <dt>{t('device.bumpTestDue')}</dt>
              <dd><DueDate at={due.bump_test_due_at} state={due.bump_test_state} /> <small class="muted">{t('device.calibrationInterval', { days: due.bump_test_days })}</small></dd>
            </div>
          )}
        </dl>
      )}
      {data && <h3>{t('device.calibrationHistory')}</h3>}
      {data && data.records.length === 0 && <p class="empty">{t('device.none')}</p>}
      {data && data.records.length > 0 && (
        <ul class="device-alarms">
          {data.records.map((r) => (
            <li key={r.id} data-record={r.id} data-passed={String(r.passed)}>
              {t(`cal.kind.${r.kind}`)} <span class={`pill ${r.passed ? 'pill-ok' : 'pill-alarm'}`}>{t(r.passed ? 'device.calibrationPassed' : 'device.calibrationFailed')}</span>
              <div class="muted">
                {[
                  formatTime(r.at, false),
                  r.test_gas && `${t('cal.testGas')}: ${r.test_gas}${r.concentration !== null ? ` (${formatNumber(r.concentration, 2)})` : ''}`,
                  r.as_found !== null && `${t('cal.asFound')}: ${formatNumber(r.as_found, 2)}`,
                  r.as_left !== null && `${t('cal.asLeft')}: ${formatNumber(r.as_left, 2)}`,
                  r.new_k !== null && `k = ${formatNumber(r.new_k, 4)}`,
                  r.new_b !== null && `b = ${formatNumber(r.new_b, 2)}`,
                  t('device.calibrationBy', { by: r.by }),
                ].filter(Boolean).join(' · ')}
              </div>
              {r.comment && <div>{r.comment}</div>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * Issue 15.3 (ALM-16, GBZ 2.1-2019): the rolling 15-minute and 8-hour averages against PC-STEL and
 * PC-TWA, as on the kiosk's trend, refreshed with the page; a gas without those limits says so.
 */
function ExposureSection({ sn }: { sn: string }) {
  const loaded = useLoad(() => optional(exposurePath(sn)), [sn]);
  useEffect(() => {
    const timer = window.setInterval(loaded.reload, REFRESH_MS * 12); // the averages move by the minute
    return () => window.clearInterval(timer);
  }, []);
  const view = loaded.data?.available ? (loaded.data.data as ExposureView) : null;
  return (
    <section class="device-section" data-section="exposure" data-available={loaded.data ? String(loaded.data.available) : ''}>
      <h2>{t('device.exposure')}</h2>
      <Notice error={loaded.error} />
      {loaded.data && !loaded.data.available && <p class="muted" data-not-available>{t('device.notAvailable')}</p>}
      {view && <ExposureFigures view={view} />}
    </section>
  );
}

export function DevicePage({ session, sn }: PageProps & { sn: string }) {
  useSiteTimezone();
  const device = useLoad(() => api.get<DeviceView>(`/api/devices/${encodeURIComponent(sn)}`), [sn]);
  const [commanding, setCommanding] = useState(false);
  const masks = useMasks();
  const [masking, setMasking] = useState(false);
  const action = useAction();
  const mask = masks.of(sn);
  const operator = can(session, 'operator');
  useEffect(() => {
    const timer = window.setInterval(device.reload, REFRESH_MS); // the value and figures move on by themselves
    return () => window.clearInterval(timer);
  }, []);
  const d = device.data;
  return (
    <section class="device-page" data-device={sn}>
      <a class="back" href="/admin/devices" onClick={(e) => linkClick(e, '/admin/devices')}>{t('device.back')}</a>
      <div class="page-head">
        <h1>{d?.name || sn} <small class="muted"><code>{sn}</code></small></h1>
        <div class="row">
          {d && operator && d.kind !== 'output' && masks.data && (mask
            ? <button type="button" data-action="unmask" onClick={() => void unmask(sn, action).then((ok) => ok && masks.reload())}>{t('mask.unmask')}</button>
            : <button type="button" data-action="mask" onClick={() => setMasking(true)}>{t('mask.action')}</button>)}
          {d && operator && <button type="button" data-action="commands" onClick={() => setCommanding(true)}>{t('devices.commands')}</button>}
        </div>
      </div>
      {d && <p class="muted">{[gasName(d.gas), d.location].filter(Boolean).join(' · ')}</p>}
      <Notice error={device.error ?? masks.error ?? action.error} ok={action.ok} />
      {d && <ValueBlock device={d} mask={mask} />}
      {d && (
        <section class="device-section" data-section="figures">
          <h2>{t('device.figures')}</h2>
          <Figures device={d} />
        </section>
      )}
      {d && <AlarmHistory sn={sn} unit={d.unit} />}
      {d && d.kind === 'output' ? <p class="muted" data-kind="output">{t('device.outputNoGas')}</p> : d && <CalibrationSection sn={sn} />}
      {d && d.kind !== 'output' && <ExposureSection sn={sn} />}
      {masking && masks.data && (
        <MaskDialog sns={[sn]} settings={masks.data.settings} onClose={() => setMasking(false)}
          onDone={() => (setMasking(false), void action.run(async () => undefined, t('mask.done', { sns: sn })), masks.reload())} />
      )}
      {d && commanding && <DeviceCommands device={d} onClose={() => setCommanding(false)} />}
    </section>
  );
}
