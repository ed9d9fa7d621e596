// Issue 15.2 (JJG 693-2011): calibration and bump-test records per detector, its intervals, and
// the due report of every detector (JSON and CSV). Recording is an operator's work (the people who
// do the test); intervals are an admin's setting. Every change is audited (API-5).
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { SnParams } from '../../contract/device.ts';
import { DeviceCalibrationView, DueRowView, IntervalsInput, CalibrationRecordInput, RecordedView } from '../../contract/calibration.ts';
import { dueReportCsv } from '../calibration-report-csv.ts';
import type { ApiDeps } from '../deps.ts';
import { auditor } from '../audit.ts';

const CsvQuery = Type.Object(
  { language: Type.Optional(Type.Union([Type.Literal('zh-CN'), Type.Literal('en')], { description: 'headers and states; default: the site language' })) },
  { additionalProperties: false },
);

export function calibrationRoutes(deps: Pick<ApiDeps, 'audit' | 'calibration' | 'clock' | 'config'>) {
  const audit = auditor(deps.audit, deps.clock);
  const { calibration, config } = deps;

  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['calibration'];

    api.get('/api/calibration/due', {
      schema: { tags, summary: 'every detector with its calibration and bump-test due dates, soonest first', response: { 200: Type.Object({ data: Type.Array(DueRowView) }) } },
      config: { access: 'viewer' },
    }, async () => ({ data: calibration.report() }));

    api.get('/api/calibration/due.csv', {
      schema: { tags, summary: 'the due report as CSV (Excel-friendly, site-local dates)', querystring: CsvQuery },
      config: { access: 'viewer' },
    }, async (request, reply) => {
      const language = request.query.language ?? config.site.language;
      const csv = [...dueReportCsv(calibration.report(), { language, timezone: config.site.timezone })].join('');
      reply.header('content-type', 'text/csv; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="calibration-due_${new Date(deps.clock.now()).toISOString().slice(0, 10)}.csv"`);
      return csv;
    });

    api.get('/api/calibration/devices/:sn', {
      schema: { tags, summary: "a detector's due dates, intervals and records (newest first)", params: SnParams, response: { 200: DeviceCalibrationView } },
      config: { access: 'viewer' },
    }, async (request) => calibration.ofDevice(request.params.sn));

    api.post('/api/calibration/devices/:sn', {
      schema: { tags, summary: 'record a calibration or bump test; a new k/b updates the device and is sent as calib when it is connected', params: SnParams, body: CalibrationRecordInput, response: { 201: RecordedView } },
      config: { access: 'operator' },
    }, async (request, reply) => {
      const { sn } = request.params;
      const { record, due, command, before, after } = await calibration.record(sn, request.body, request.principal!.username);
      audit(request, `calibration.${record.kind}`, sn, before === null ? null : { calib: before }, { ...record, calib: after, command });
      return reply.status(201).send({ record, due, command });
    });

    api.put('/api/calibration/devices/:sn/intervals', {
      schema: { tags, summary: "a detector's own calibration and bump-test intervals (null: the site default)", params: SnParams, body: IntervalsInput, response: { 200: DueRowView } },
      config: { access: 'admin' },
    }, async (request) => {
      const { before, after, due } = calibration.setIntervals(request.params.sn, request.body);
      audit(request, 'calibration.intervals', request.params.sn, before, after);
      return due;
    });
  };
}
