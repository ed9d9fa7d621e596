// API-1 devices: list with paging and filters, CRUD through the device service (the same
// validation and credential logic as the CLI), realtime, bucketed history, raw CSV export,
// commands over MQTT, floor-plan positions, and pending serials to adopt (ING-3). ALM-9: a
// setpoint accepted outside GB/T 50493-2019's bounds by setpoint_override_reason is audited as
// 'device.setpoint_override' with the reason and what it overrode.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../core/errors.ts';
import { iso, isoOrNull, Message, Paged } from '../../contract/api.ts';
import {
  AdoptBody, DeviceCreate, DeviceCreated, DeviceListQuery, DeviceUpdate, DeviceView, ExportQuery, HistoryCsvQuery, HistoryQuery,
  HistoryResponse, PendingView, PositionsUpdate, RealtimeView, SnParams, type DeviceView as DeviceViewType,
} from '../../contract/device.ts';
import { DeviceCommand } from '../../contract/device-payload.ts';
import type { Device } from '../../storage/devices.ts';
import type { SetpointOverride } from '../../devices/service.ts';
import type { LiveDevice } from '../../contract/live.ts';
import type { DeviceFigures } from '../../live/state.ts';
import type { ApiDeps } from '../deps.ts';
import { auditor } from '../audit.ts';
import { licensedStart } from '../access.ts';
import { historyCsv, historyRange, readingsCsv, timeRange } from './ranges.ts';

function credentialsOf(hash: string | null): string {
  if (hash === null) return 'factory';
  return hash.startsWith('scrypt$') ? 'chosen' : 'generated';
}

/**
 * Issue 15.6: `last_seen` is the last message of any kind, kept in memory by presence (ING-7);
 * SQLite's devices.last_seen is written only when the status changes, so alone it is the time the
 * device came online or went offline — the connection time the list used to show as "last seen".
 */
export function deviceView(device: Device, live: LiveDevice, figures: DeviceFigures): DeviceViewType {
  return {
    sn: device.sn, kind: device.kind, name: device.name, location: device.location, gas: device.gas, unit: device.unit,
    status: live.online ? 'online' : 'offline', state: live.status, alarms: live.alarms,
    last_ppm: live.ppm, last_reading_at: live.ts, last_received_at: isoOrNull(figures.lastReceivedAt),
    last_seen: isoOrNull(Math.max(figures.lastSeen ?? 0, device.last_seen ?? 0) || null),
    bat: live.bat, rssi: live.rssi, temp: live.temp, humi: live.humi, firmware: figures.firmware,
    missing_readings: figures.missing, packet_loss_pct: figures.loss_pct, clock_skew_ms: figures.clock_skew_ms,
    relay: figures.relay, relay_at: isoOrNull(figures.relayAt),
    high_limit: device.high_limit, high2_limit: device.high2_limit, low_limit: device.low_limit, range_max: device.range_max, calib: device.calib,
    pos_x: device.pos_x, pos_y: device.pos_y, enabled: device.enabled, credentials: credentialsOf(device.password_hash),
    created_at: iso(device.created_at), updated_at: iso(device.updated_at),
  };
}

/** What the audit log keeps of a device: its settings, never its credential (API-5). */
function auditable(device: Device) {
  const { password_hash: _hash, status: _status, last_seen: _seen, sn_id: _id, updated_at: _at, ...settings } = device;
  return settings;
}

export function deviceRoutes(deps: Pick<ApiDeps, 'audit' | 'clock' | 'commands' | 'config' | 'devices' | 'license' | 'live' | 'readings'>) {
  const audit = auditor(deps.audit, deps.clock);
  const { devices, live } = deps;
  const view = (device: Device) => deviceView(device, live.device(device.sn), live.figures(device.sn));
  /** ALM-9: who accepted which setpoints outside the standard's bounds, and why. */
  const auditOverride = (request: Parameters<typeof audit>[0], device: Device, override: SetpointOverride | null | undefined) => {
    if (!override) return;
    const setpoints = { gas: device.gas, unit: device.unit, high_limit: device.high_limit, high2_limit: device.high2_limit, low_limit: device.low_limit };
    audit(request, 'device.setpoint_override', device.sn, null, { reason: override.reason, overridden: override.problems, setpoints });
  };

  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['devices'];
    const invalid = 'DEVICE_INVALID' as const;
    const viewer = { access: 'viewer' as const, invalid };
    const operator = { access: 'operator' as const, invalid };
    const admin = { access: 'admin' as const, invalid };

    api.get('/api/devices', { schema: { tags, querystring: DeviceListQuery, response: { 200: Paged(DeviceView) } }, config: viewer }, async (request) => {
      const { page, size, status, q } = request.query;
      const { total, items } = devices.list({ search: q, status, limit: size, offset: (page - 1) * size });
      const states = live.devices(items.map((d) => d.sn));
      return { total, page, size, data: items.map((d, i) => deviceView(d, states[i], live.figures(d.sn))) };
    });

    api.post('/api/devices', {
      schema: { tags, summary: 'register a detector (ALM-9: with a setpoint within the bounds for its gas) or, kind=output, an output module (no gas, no setpoint); a generated password is returned once', body: DeviceCreate, response: { 201: DeviceCreated } },
      config: admin,
    }, async (request, reply) => {
      const { device, password, override } = await devices.add(request.body);
      audit(request, 'device.create', device.sn, null, auditable(device));
      auditOverride(request, device, override);
      return reply.status(201).send({ device: view(device), password });
    });

    api.get('/api/devices/pending', { schema: { tags, summary: 'serials that logged in but are not registered (ING-3)', response: { 200: Type.Object({ data: Type.Array(PendingView) }) } }, config: admin },
      async () => ({ data: devices.pending().map((p) => ({ ...p, first_seen: iso(p.first_seen), last_seen: iso(p.last_seen) })) }));

    api.post('/api/devices/pending/:sn/adopt', {
      schema: { tags, summary: 'register a pending serial (keeps its factory password unless credentials=generate)', params: SnParams, body: AdoptBody, response: { 201: DeviceCreated } },
      config: admin,
    }, async (request, reply) => {
      const { device, password, override } = await devices.adopt({ ...request.body, sn: request.params.sn });
      audit(request, 'device.adopt', device.sn, null, auditable(device));
      auditOverride(request, device, override);
      return reply.status(201).send({ device: view(device), password });
    });

    api.post('/api/devices/positions', {
      schema: { tags, summary: 'save floor-plan positions in percent, all or none', body: PositionsUpdate, response: { 200: Message } },
      config: admin,
    }, async (request) => {
      const { positions } = request.body;
      const before = positions.map((p) => devices.get(p.sn)).map((d) => ({ sn: d.sn, x: d.pos_x, y: d.pos_y }));
      devices.setPositions(positions);
      audit(request, 'device.positions', null, before, positions);
      return { message: `${positions.length} position(s) saved` };
    });

    api.get('/api/devices/:sn', { schema: { tags, params: SnParams, response: { 200: DeviceView } }, config: viewer },
      async (request) => view(devices.get(request.params.sn)));

    api.put('/api/devices/:sn', {
      schema: { tags, summary: 'change settings, calibration and limits (all rules checked, 40004 lists every problem; 40005: a setpoint outside the bounds for the gas)', params: SnParams, body: DeviceUpdate, response: { 200: DeviceView } },
      config: admin,
    }, async (request) => {
      const before = devices.get(request.params.sn);
      const { device: after, override } = devices.update(request.params.sn, request.body);
      audit(request, 'device.update', after.sn, auditable(before), auditable(after));
      auditOverride(request, after, override);
      return view(after);
    });

    api.delete('/api/devices/:sn', { schema: { tags, summary: 'remove; its stored readings stay for history and archive', params: SnParams, response: { 200: Message } }, config: admin }, async (request) => {
      const before = devices.get(request.params.sn);
      devices.remove(before.sn);
      audit(request, 'device.delete', before.sn, auditable(before), null);
      return { message: `device ${before.sn} removed` };
    });

    api.post('/api/devices/:sn/reset-password', {
      schema: { tags, summary: 'replace the credential with a new generated password (returned once)', params: SnParams, response: { 200: DeviceCreated } },
      config: admin,
    }, async (request) => {
      const { device, password } = devices.resetPassword(request.params.sn);
      audit(request, 'device.reset_password', device.sn);
      return { device: view(device), password };
    });

    api.get('/api/devices/:sn/realtime', { schema: { tags, params: SnParams, response: { 200: RealtimeView } }, config: viewer }, async (request) => {
      const device = devices.get(request.params.sn);
      return live.device(device.sn);
    });

    api.get('/api/devices/:sn/history', {
      schema: { tags, summary: 'ppm in buckets (10s raw up to 7 days; 1m/5m/1h from roll-ups)', params: SnParams, querystring: HistoryQuery, response: { 200: HistoryResponse } },
      config: { ...operator, licensed: 'last_24h' },
    }, async (request) => {
      const device = devices.get(request.params.sn);
      const now = deps.clock.now();
      const range = historyRange(request.query, now);
      const { to, interval } = range;
      const from = licensedStart(deps.license, range, now); // LIC-4: locked, the last 24 h only
      const points = deps.readings.history(device.sn, from, to, interval).map((p) => ({ ts: iso(p.ts), ppm: p.avg, min: p.min, max: p.max, count: p.count }));
      return { sn: device.sn, start: iso(from), end: iso(to), interval, points };
    });

    api.get('/api/devices/history.csv', {
      schema: { tags, summary: "UI-3: what a data-query chart shows as CSV: the devices' buckets over one range at one interval", querystring: HistoryCsvQuery },
      config: { ...operator, licensed: 'last_24h' },
    }, async (request, reply) => {
      const { sn, ...rangeQuery } = request.query;
      const shown = [...new Set(sn.split(','))].map((one) => devices.get(one));
      const now = deps.clock.now();
      const range = historyRange(rangeQuery, now);
      const { to, interval } = range;
      const from = licensedStart(deps.license, range, now); // LIC-4: locked, the last 24 h only
      const rows = shown.map((device) => ({ sn: device.sn, name: device.name, unit: device.unit, points: deps.readings.history(device.sn, from, to, interval) }));
      reply.header('content-type', 'text/csv; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="history_${iso(from).slice(0, 10)}_${interval}.csv"`);
      return [...historyCsv(rows, interval, deps.config.site.timezone)].join('');
    });

    api.get('/api/devices/:sn/export', {
      schema: { tags, summary: 'raw readings as CSV (at most 7 days)', params: SnParams, querystring: ExportQuery },
      config: { ...operator, licensed: 'last_24h' },
    }, async (request, reply) => {
      const device = devices.get(request.params.sn);
      const now = deps.clock.now();
      const range = timeRange(request.query, now, true);
      const { to } = range;
      const from = licensedStart(deps.license, range, now); // LIC-4: locked, the last 24 h only
      reply.header('content-type', 'text/csv; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="${device.sn}_${iso(from).slice(0, 10)}.csv"`);
      return reply.send(Readable.from(readingsCsv(deps.readings.rawPages(device.sn, from, to))));
    });

    api.post('/api/devices/:sn/command', {
      schema: { tags, summary: 'send debug / calib / reboot (operator) or ota (admin) on mcs/{sn}/cmd at QoS 1', params: SnParams, body: DeviceCommand, response: { 200: Message } },
      config: operator,
    }, async (request) => {
      const device = devices.get(request.params.sn);
      const command = request.body;
      if (command.cmd === 'ota' && request.principal!.role !== 'admin') throw new AppError('AUTH_FORBIDDEN', { required: 'admin', cmd: 'ota' });
      if (!deps.commands.isConnected(device.sn)) throw new AppError('DEVICE_OFFLINE', { sn: device.sn });
      await deps.commands.sendCommand(device.sn, command);
      audit(request, 'device.command', device.sn, null, command);
      return { message: `${command.cmd} sent to ${device.sn}` };
    });
  };
}
