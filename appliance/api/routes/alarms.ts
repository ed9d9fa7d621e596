// API-1 alarms (ALM-7): records with filters and paging, detail, acknowledge one or many (with a
// comment, audited), statistics by type and site day, and the CSV export.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../core/errors.ts';
import { Paged } from '../../contract/api.ts';
import {
  AckBody, type AlarmRecord, AlarmExportQuery, AlarmListQuery, AlarmStatsQueryParams, AlarmViewSchema, BulkAckBody, JournalEntryView, SilenceBody,
} from '../../contract/alarm.ts';
import { iso } from '../../contract/api.ts';
import { alarmStats, alarmsCsv } from '../../alarms/queries.ts';
import type { AlarmFilter } from '../../storage/alarms.ts';
import { alarmView } from '../../live/state.ts';
import type { ApiDeps } from '../deps.ts';
import { auditor } from '../audit.ts';
import { licensedStart } from '../access.ts';
import { timeParam, timeRange } from './ranges.ts';

const AlarmStatsView = Type.Object({
  start: Type.String(),
  end: Type.String(),
  timezone: Type.String(),
  total: Type.Integer(),
  active: Type.Integer(),
  unacknowledged: Type.Integer(),
  by_type: Type.Array(Type.Object({ type: Type.String(), count: Type.Integer() })),
  by_day: Type.Array(Type.Object({ day: Type.String(), count: Type.Integer(), by_type: Type.Record(Type.String(), Type.Integer()) })),
});

/**
 * sn → the device's gas unit, each looked up once per request; none for a deleted device. The
 * views carry it so a concentration reads in its unit (a battery %, an error code need none).
 */
function deviceUnits(devices: ApiDeps['devices']): (sn: string | null) => string | undefined {
  const units = new Map<string, string | undefined>();
  return (sn) => {
    if (sn === null) return undefined;
    if (!units.has(sn)) {
      try {
        units.set(sn, devices.get(sn).unit);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        units.set(sn, undefined);
      }
    }
    return units.get(sn);
  };
}

function filterOf(query: { sn?: string; type?: string; state?: 'active' | 'cleared'; acknowledged?: boolean; start?: string; end?: string }): AlarmFilter {
  return {
    sn: query.sn, type: query.type, state: query.state, acknowledged: query.acknowledged,
    from: timeParam(query.start, 'start'), to: timeParam(query.end, 'end'),
  };
}

export function alarmRoutes(deps: ApiDeps) {
  const audit = auditor(deps.audit, deps.clock);
  const { alarmRepo, acknowledge, config } = deps;
  const viewOf = (records: AlarmRecord[]) => {
    const unitOf = deviceUnits(deps.devices);
    return records.map((record) => ({ ...alarmView(record), unit: unitOf(record.sn) }));
  };

  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['alarms'];
    // Acknowledging is how people handle an alarm: it stays possible when the license is locked (LIC-4 never blinds the plant).
    const operator = { access: 'operator' as const, licensed: false };

    api.get('/api/alarms', { schema: { tags, querystring: AlarmListQuery, response: { 200: Paged(AlarmViewSchema) } }, config: { access: 'viewer' } }, async (request) => {
      const { page, size, ...filters } = request.query;
      const { total, items } = alarmRepo.list({ ...filterOf(filters), limit: size, offset: (page - 1) * size });
      return { total, page, size, data: viewOf(items) };
    });

    api.get('/api/alarms/stats', { schema: { tags, summary: 'counts by type and by site day (ALM-7)', querystring: AlarmStatsQueryParams, response: { 200: AlarmStatsView } }, config: { access: 'viewer' } }, async (request) => {
      const { from, to } = timeRange(request.query, deps.clock.now());
      const stats = alarmStats(alarmRepo, { from, to, timezone: config.site.timezone });
      return {
        start: new Date(from).toISOString(), end: new Date(to).toISOString(), timezone: config.site.timezone,
        total: stats.total, active: stats.active, unacknowledged: stats.unacknowledged, by_type: stats.byType,
        by_day: stats.byDay.map((d) => ({ day: d.day, count: d.count, by_type: d.byType })),
      };
    });

    api.get('/api/alarms/export', {
      schema: { tags, summary: 'alarm records as CSV (Excel-friendly); while the license is locked, the last 24 h only', querystring: AlarmExportQuery },
      config: { access: 'operator', licensed: 'last_24h' },
    }, async (request, reply) => {
      const { language = config.site.language, ...filters } = request.query;
      const now = deps.clock.now();
      const filter = filterOf(filters);
      // LIC-4, locked: the export is the recent record a safety manager needs in an incident, so
      // an export without a start is answered with the last 24 h (and says so in its file name,
      // "…_last-24h.csv", not passing for the full record); a start (or an end without a start)
      // older than 24 h asks for what the locked license withholds and is refused with its 403.
      const from = licensedStart(deps.license, filter, now);
      const limited = filter.from === undefined && from !== undefined;
      // Built whole, synchronously: no statement stays open on the shared connection between chunks.
      const csv = [...alarmsCsv(alarmRepo.iterate({ ...filter, from }), { language, timezone: config.site.timezone, unitOf: deviceUnits(deps.devices) })].join('');
      reply.header('content-type', 'text/csv; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="alarms_${new Date(now).toISOString().slice(0, 10)}${limited ? '_last-24h' : ''}.csv"`);
      return csv;
    });

    api.get('/api/alarms/:id', { schema: { tags, params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), response: { 200: AlarmViewSchema } }, config: { access: 'viewer' } }, async (request) => {
      const record = alarmRepo.get(request.params.id);
      if (!record) throw new AppError('NOT_FOUND', { id: request.params.id }, `no alarm ${request.params.id}`);
      return viewOf([record])[0];
    });

    api.get('/api/alarms/:id/journal', {
      schema: { tags, summary: "ALM-12: the episode's events, oldest first", params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), response: { 200: Type.Object({ data: Type.Array(JournalEntryView) }) } },
      config: { access: 'viewer' },
    }, async (request) => {
      const { id } = request.params;
      if (!alarmRepo.get(id)) throw new AppError('NOT_FOUND', { id }, `no alarm ${id}`);
      return { data: alarmRepo.journal(id).map(({ alarm_id: _alarm, ...entry }) => ({ ...entry, at: iso(entry.at) })) };
    });

    // GB 16808 消音 from the control-room screen (a viewer token): journaled in every listed alarm's
    // history; the sound itself stops in the kiosk, which never waits for this answer.
    api.post('/api/alarms/silence', {
      schema: { tags, summary: 'record that a kiosk silenced the alarm sound (GB 16808 消音)', body: SilenceBody, response: { 200: Type.Object({ silenced: Type.Integer() }) } },
      config: { access: 'viewer', licensed: false },
    }, async (request) => {
      const by = `${request.body.kiosk} (${request.principal!.username})`;
      return { silenced: await deps.silence(by) };
    });

    api.post('/api/alarms/:id/ack', {
      schema: { tags, summary: 'acknowledge with a comment (independent of clearing)', params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), body: AckBody, response: { 200: AlarmViewSchema } },
      config: operator,
    }, async (request) => {
      const { id } = request.params;
      const before = alarmRepo.get(id);
      if (!before) throw new AppError('NOT_FOUND', { id }, `no alarm ${id}`);
      if (before.ack_at !== null) throw new AppError('CONFLICT', { id, ack_by: before.ack_by }, `alarm ${id} is already acknowledged`);
      const [after] = await acknowledge([id], request.principal!.username, request.body.comment);
      if (!after) throw new AppError('CONFLICT', { id }, `alarm ${id} is already acknowledged`);
      audit(request, 'alarm.ack', String(id), { ack_at: null }, { ack_by: after.ack_by, ack_comment: after.ack_comment });
      return viewOf([after])[0];
    });

    api.post('/api/alarms/ack', {
      schema: { tags, summary: 'acknowledge many; those already acknowledged are left as they are', body: BulkAckBody, response: { 200: Type.Object({ acknowledged: Type.Array(Type.Integer()), skipped: Type.Array(Type.Integer()) }) } },
      config: operator,
    }, async (request) => {
      const { ids, comment } = request.body;
      const changed = await acknowledge(ids, request.principal!.username, comment);
      const acknowledged = changed.map((r) => r.id);
      for (const record of changed) audit(request, 'alarm.ack', String(record.id), { ack_at: null }, { ack_by: record.ack_by, ack_comment: record.ack_comment });
      return { acknowledged, skipped: ids.filter((id) => !acknowledged.includes(id)) };
    });
  };
}
