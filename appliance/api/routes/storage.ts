// API-1 cold storage (ARC-1..ARC-5): the S3/R2 settings with "test connection" (the secret key
// sealed at rest, returned as "******"), the archive list and download, backups, and the job
// schedule with each job's last run (OPS-2).
import { createReadStream } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AppError } from '../../core/errors.ts';
import { iso, isoOrNull } from '../../contract/api.ts';
import { ArchiveStatusSchema, StorageSettingsSchema, StorageTestResultSchema, type ArchiveEntry, type JobStatus } from '../../contract/storage.ts';
import type { ApiDeps } from '../deps.ts';
import { auditor } from '../audit.ts';

const ArchiveView = Type.Object({
  day: Type.String(), part: Type.Integer(), key: Type.String(), rows: Type.Integer(), bytes: Type.Integer(), sha256: Type.String(),
  archived_at: Type.String(), local_rows_deleted: Type.Boolean(), download: Type.String(),
});
const DayParams = Type.Object({ date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'site day YYYY-MM-DD' }) });
const PartQuery = Type.Object({ part: Type.Integer({ minimum: 1, maximum: 99, default: 1 }), token: Type.Optional(Type.String()) }, { additionalProperties: false });
const BackupView = Type.Object({ file: Type.String(), bytes: Type.Integer(), created_at: Type.String(), uploaded_key: Type.Union([Type.String(), Type.Null()]) });
const JobView = Type.Object({
  name: Type.String(), schedule: Type.String(), running: Type.Boolean(), last_started_at: Type.Union([Type.String(), Type.Null()]),
  last_duration_ms: Type.Union([Type.Integer(), Type.Null()]), last_ok: Type.Union([Type.Boolean(), Type.Null()]), last_result: Type.Unknown(),
  runs: Type.Integer(), failures: Type.Integer(), skipped_overlaps: Type.Integer(), next_run: Type.Union([Type.String(), Type.Null()]),
});

const archiveView = (e: ArchiveEntry) => ({
  ...e, archived_at: iso(e.archived_at), download: `/api/system/archives/${e.day}/download${e.part > 1 ? `?part=${e.part}` : ''}`,
});
const jobView = (j: JobStatus) => ({ ...j, last_started_at: isoOrNull(j.last_started_at), next_run: isoOrNull(j.next_run) });

export function storageRoutes(deps: Pick<ApiDeps, 'archive' | 'audit' | 'clock'>) {
  const audit = auditor(deps.audit, deps.clock);
  const { storageSettings, archiver, backups, scheduler } = deps.archive;

  return async function register(app: FastifyInstance) {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['storage'];
    const admin = { access: 'admin' as const, invalid: 'ARCHIVE_CONFIG_INVALID' as const };

    api.get('/api/config/storage', { schema: { tags, response: { 200: StorageSettingsSchema } }, config: admin }, async () => storageSettings.redacted());

    api.put('/api/config/storage', {
      schema: { tags, summary: 'S3/R2 endpoint, region, bucket and keys; "******" keeps the stored secret (60001 lists every problem)', body: StorageSettingsSchema, response: { 200: StorageSettingsSchema } },
      config: admin,
    }, async (request) => {
      const before = storageSettings.redacted();
      const after = storageSettings.save(request.body);
      audit(request, 'config.storage', 'storage', before, after);
      return after;
    });

    api.post('/api/config/storage/test', {
      schema: { tags, summary: 'write, read back and delete a small object (the unsaved form, or the saved settings without a body)', body: Type.Optional(StorageSettingsSchema), response: { 200: StorageTestResultSchema } },
      config: admin,
    }, async (request) => storageSettings.testConnection(request.body ?? undefined));

    api.get('/api/system/archives', {
      schema: { tags, summary: 'archived days (ARC-3) and whether archiving is on (ARC-5)', response: { 200: Type.Object({ status: ArchiveStatusSchema, data: Type.Array(ArchiveView) }) } },
      config: { access: 'operator' },
    }, async () => ({ status: archiver.status(), data: archiver.list().map(archiveView) }));

    const download = { schema: { tags, summary: 'the gzip CSV of a site day, streamed from the bucket', params: DayParams, querystring: PartQuery }, config: { access: 'operator' as const, licensed: true, queryToken: true, invalid: 'ARCHIVE_NOT_FOUND' as const } };
    for (const method of ['GET', 'POST'] as const) {
      api.route({
        method, url: '/api/system/archives/:date/download', ...download,
        handler: async (request, reply) => {
          const file = await archiver.download(request.params.date, request.query.part);
          reply.header('content-type', file.contentType).header('content-length', String(file.bytes));
          reply.header('content-disposition', `attachment; filename="${file.fileName}"`);
          return reply.send(file.stream);
        },
      });
    }

    api.get('/api/system/backups', { schema: { tags, response: { 200: Type.Object({ data: Type.Array(BackupView) }) } }, config: { access: 'admin' } },
      async () => ({ data: (await backups.list()).map((b) => ({ ...b, created_at: iso(b.created_at) })) }));

    api.post('/api/system/backups', {
      schema: { tags, summary: 'a consistent online backup now (ARC-4); uploaded when storage is configured', response: { 200: Type.Object({ ...BackupView.properties, upload_error: Type.Union([Type.String(), Type.Null()]) }) } },
      config: { access: 'admin' },
    }, async (request) => {
      const result = await backups.backupNow();
      audit(request, 'system.backup', result.file, null, { bytes: result.bytes, uploaded_key: result.uploaded_key });
      return { ...result, created_at: iso(result.created_at) };
    });

    api.get('/api/system/backups/:file', {
      schema: { tags, params: Type.Object({ file: Type.String({ pattern: '^[A-Za-z0-9._-]{1,100}$' }) }) },
      config: { access: 'admin', queryToken: true },
    }, async (request, reply) => {
      const path = await backups.pathOf(request.params.file);
      if (!path) throw new AppError('NOT_FOUND', { file: request.params.file }, 'no such backup');
      reply.header('content-type', 'application/gzip').header('content-disposition', `attachment; filename="${request.params.file}"`);
      return reply.send(createReadStream(path));
    });

    api.get('/api/system/jobs', { schema: { tags, summary: 'the schedule and each job\'s last run (OPS-2)', response: { 200: Type.Object({ data: Type.Array(JobView) }) } }, config: { access: 'admin' } },
      async () => ({ data: scheduler.status().map(jobView) }));

    api.post('/api/system/jobs/:name/run', {
      schema: { tags, params: Type.Object({ name: Type.String({ pattern: '^[a-z0-9_-]{1,40}$' }) }) },
      config: { access: 'admin' },
    }, async (request) => {
      if (!scheduler.names().includes(request.params.name)) throw new AppError('NOT_FOUND', { job: request.params.name, jobs: scheduler.names() }, `no job ${request.params.name}`);
      const outcome = await scheduler.runNow(request.params.name);
      audit(request, 'system.job_run', request.params.name, null, { ok: outcome.ok, error: outcome.error ?? null });
      return outcome;
    });
  };
}
