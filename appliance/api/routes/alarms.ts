// API-1 alarms (ALM-7): records with filters and paging, detail, acknowledge one or many (with a
// comment, audited), statistics by type and site day, and the CSV exports (records, journals).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { AppError } from '../../core/errors.ts';
import { Paged } from '../../contract/api.ts';
import {
  AckBody, AckPolicyView, type AlarmRecord, AlarmExportQuery, AlarmListQuery, AlarmStatsQueryParams, AlarmViewSchema, BulkAckBody, JournalCsvQuery, JournalEntryView, SilenceBody,
} from '../../contract/alarm.ts';
import { iso } from '../../contract/api.ts';
import { ALARM_TYPE_LABELS } from '../../contract/site-format.ts';
import { alarmStats, alarmsCsv, journalCsv, journalRows, type DeviceFacts } from '../alarm-queries.ts';
import type { AlarmFilter } from '../../storage/alarms.ts';
import { alarmView } from '../../contract/live.ts';
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
  const facts = deviceFacts(devices);
  return (sn) => (sn === null ? undefined : facts(sn)?.unit);
}

/** sn → the device's name, location and unit, each looked up once per request; none for a deleted device. */
function deviceFacts(devices: ApiDeps['devices']): (sn: string) => DeviceFacts | undefined {
  const known = new Map<string, DeviceFacts | undefined>();
  return (sn) => {
    if (!known.has(sn)) {
      try {
        const { name, location, unit } = devices.get(sn);
        known.set(sn, { name, location, unit });
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        known.set(sn, undefined);
      }
    }
    return known.get(sn);
  };
}

/** UI-3: the types whose label (in either site language) contains the searched text: "浓度" finds HIGH and LOW. */
function typesLabelled(text: string | undefined): string[] {
  const needle = text?.trim().toLowerCase();
  if (!needle) return [];
  return Object.entries(ALARM_TYPE_LABELS).filter(([, labels]) => Object.values(labels).some((label) => label.toLowerCase().includes(needle))).map(([type]) => type);
}

function filterOf(query: Static<typeof AlarmExportQuery>): AlarmFilter {
  return {
    sn: query.sn, type: query.type, state: query.state, acknowledged: query.acknowledged,
    from: timeParam(query.start, 'start'), to: timeParam(query.end, 'end'),
    text: query.q, textTypes: typesLabelled(query.q), isaState: query.isa_state, listed: query.listed,
  };
}

export function alarmRoutes(deps: Pick<ApiDeps, 'acknowledge' | 'alarmRepo' | 'alarmSettings' | 'audit' | 'clock' | 'config' | 'devices' | 'license' | 'silence'>) {
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
      // UI-3: each with its device's name and location (people know detectors by name, not serial).
      const views = viewOf(items).map((view, i) => ({ ...view, device_name: items[i].device_name, device_location: items[i].device_location }));
      return { total, page, size, data: views };
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
      const { language = config.site.language, journal, ...filters } = request.query;
      const now = deps.clock.now();
      const filter = filterOf(filters);
      // LIC-4, locked: the export is the recent record a safety manager needs in an incident, so
      // an export without a start is answered with the last 24 h (and says so in its file name,
      // "…_last-24h.csv", not passing for the full record); a start (or an end without a start)
      // older than 24 h asks for what the locked license withholds and is refused with its 403.
      const from = licensedStart(deps.license, filter, now);
      const limited = filter.from === undefined && from !== undefined;
      // Built whole, synchronously: no statement stays open on the shared connection between chunks.
      const records = alarmRepo.iterate({ ...filter, from });
      const site = { language, timezone: config.site.timezone };
      // ALM-12 ?journal=true: the matching records' journals, one line per event.
      const csv = journal
        ? [...journalCsv(journalRows(records, alarmRepo.journal), { ...site, deviceOf: deviceFacts(deps.devices) })].join('')
        : [...alarmsCsv(records, { ...site, unitOf: deviceUnits(deps.devices) })].join('');
      const name = `${journal ? 'alarm-journal' : 'alarms'}_${new Date(now).toISOString().slice(0, 10)}${limited ? '_last-24h' : ''}.csv`;
      reply.header('content-type', 'text/csv; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="${name}"`);
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

    // ALM-12: the same journal as a spreadsheet, headers and labels in the site language (or
    // ?language=), times in the site timezone; viewers may read it as they read the journal.
    api.get('/api/alarms/:id/journal.csv', {
      schema: { tags, summary: "ALM-12: the episode's events as CSV (Excel-friendly, site-local times)", params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), querystring: JournalCsvQuery },
      config: { access: 'viewer' },
    }, async (request, reply) => {
      const { id } = request.params;
      const record = alarmRepo.get(id);
      if (!record) throw new AppError('NOT_FOUND', { id }, `no alarm ${id}`);
      const { language = config.site.language } = request.query;
      const rows = journalRows([record], alarmRepo.journal);
      const csv = [...journalCsv(rows, { language, timezone: config.site.timezone, deviceOf: deviceFacts(deps.devices) })].join('');
      reply.header('content-type', 'text/csv; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="alarm-${id}_journal.csv"`);
      return csv;
    });

    // ALM-11: per priority, whether acknowledging needs a comment (the forms mark the comment required).
    api.get('/api/alarms/ack-policy', {
      schema: { tags, summary: 'ALM-11: per priority, whether an acknowledgement needs a comment', response: { 200: Type.Object({ data: AckPolicyView }) } },
      config: { access: 'viewer', licensed: false },
    }, async () => ({ data: deps.alarmSettings.ackPolicy() }));

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
      deps.alarmSettings.requireAckComment([before], request.body.comment); // ALM-11: 400 without a required comment
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
      // ALM-11: the whole request is refused when one alarm in it needs a comment that is missing.
      deps.alarmSettings.requireAckComment(ids.flatMap((id) => alarmRepo.get(id) ?? []), comment);
      const changed = await acknowledge(ids, request.principal!.username, comment);
      const acknowledged = changed.map((r) => r.id);
      for (const record of changed) audit(request, 'alarm.ack', String(record.id), { ack_at: null }, { ack_by: record.ack_by, ack_comment: record.ack_comment });
      return { acknowledged, skipped: ids.filter((id) => !acknowledged.includes(id)) };
    });
  };
}
