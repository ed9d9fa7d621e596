// API-1 alarms (ALM-7): records with filters and paging, detail, acknowledge one or many (with a
// comment, audited), statistics by type and site day, and the CSV export.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../core/errors.ts';
import { Paged } from '../../contract/api.ts';
import { AckBody, AlarmExportQuery, AlarmListQuery, AlarmStatsQueryParams, AlarmViewSchema, BulkAckBody } from '../../contract/alarm.ts';
import { alarmStats, alarmsCsv } from '../../alarms/queries.ts';
import type { AlarmFilter } from '../../storage/alarms.ts';
import { alarmView } from '../../live/state.ts';
import type { ApiDeps } from '../deps.ts';
import { auditor } from '../audit.ts';
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

function filterOf(query: { sn?: string; type?: string; state?: 'active' | 'cleared'; acknowledged?: boolean; start?: string; end?: string }): AlarmFilter {
  return {
    sn: query.sn, type: query.type, state: query.state, acknowledged: query.acknowledged,
    from: timeParam(query.start, 'start'), to: timeParam(query.end, 'end'),
  };
}

export function alarmRoutes(deps: ApiDeps) {
  const audit = auditor(deps.audit, deps.clock);
  const { alarmRepo, alarmEngine, config } = deps;

  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['alarms'];
    // Acknowledging is how people handle an alarm: it stays possible when the license is locked (LIC-4 never blinds the plant).
    const operator = { access: 'operator' as const, licensed: false };

    api.get('/api/alarms', { schema: { tags, querystring: AlarmListQuery, response: { 200: Paged(AlarmViewSchema) } }, config: { access: 'viewer' } }, async (request) => {
      const { page, size, ...filters } = request.query;
      const { total, items } = alarmRepo.list({ ...filterOf(filters), limit: size, offset: (page - 1) * size });
      return { total, page, size, data: items.map(alarmView) };
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

    api.get('/api/alarms/export', { schema: { tags, summary: 'alarm records as CSV (Excel-friendly)', querystring: AlarmExportQuery }, config: { access: 'operator', licensed: true } }, async (request, reply) => {
      const { language = config.site.language, ...filters } = request.query;
      // Built whole, synchronously: no statement stays open on the shared connection between chunks.
      const csv = [...alarmsCsv(alarmRepo.iterate(filterOf(filters)), { language, timezone: config.site.timezone })].join('');
      reply.header('content-type', 'text/csv; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="alarms_${new Date(deps.clock.now()).toISOString().slice(0, 10)}.csv"`);
      return csv;
    });

    api.get('/api/alarms/:id', { schema: { tags, params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), response: { 200: AlarmViewSchema } }, config: { access: 'viewer' } }, async (request) => {
      const record = alarmRepo.get(request.params.id);
      if (!record) throw new AppError('NOT_FOUND', { id: request.params.id }, `no alarm ${request.params.id}`);
      return alarmView(record);
    });

    api.post('/api/alarms/:id/ack', {
      schema: { tags, summary: 'acknowledge with a comment (independent of clearing)', params: Type.Object({ id: Type.Integer({ minimum: 1 }) }), body: AckBody, response: { 200: AlarmViewSchema } },
      config: operator,
    }, async (request) => {
      const { id } = request.params;
      const before = alarmRepo.get(id);
      if (!before) throw new AppError('NOT_FOUND', { id }, `no alarm ${id}`);
      if (before.ack_at !== null) throw new AppError('CONFLICT', { id, ack_by: before.ack_by }, `alarm ${id} is already acknowledged`);
      const [after] = alarmEngine.acknowledge([id], request.principal!.username, request.body.comment);
      audit(request, 'alarm.ack', String(id), { ack_at: null }, { ack_by: after.ack_by, ack_comment: after.ack_comment });
      return alarmView(after);
    });

    api.post('/api/alarms/ack', {
      schema: { tags, summary: 'acknowledge many; those already acknowledged are left as they are', body: BulkAckBody, response: { 200: Type.Object({ acknowledged: Type.Array(Type.Integer()), skipped: Type.Array(Type.Integer()) }) } },
      config: operator,
    }, async (request) => {
      const { ids, comment } = request.body;
      const changed = alarmEngine.acknowledge(ids, request.principal!.username, comment);
      const acknowledged = changed.map((r) => r.id);
      for (const record of changed) audit(request, 'alarm.ack', String(record.id), { ack_at: null }, { ack_by: record.ack_by, ack_comment: record.ack_comment });
      return { acknowledged, skipped: ids.filter((id) => !acknowledged.includes(id)) };
    });
  };
}
