// Cold archive and backup (ARC-1..ARC-5) as the API and UI see them: the S3/R2 storage settings
// (GET/PUT /api/config/storage), the archive list (/api/system/archives), backups and job status.
import { Type, type Static } from '@sinclair/typebox';

/** The storage settings; secret_access_key is sealed at rest and redacted ("******") on read (API-7). */
export const StorageSettingsSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'archive and upload backups; off = nothing is deleted (ARC-5)' }),
    endpoint: Type.String({
      default: '',
      pattern: '^$|^https?://[^\\s]+$',
      description: 'S3-compatible endpoint, e.g. https://<account>.r2.cloudflarestorage.com; empty = AWS S3',
    }),
    region: Type.String({ default: 'auto', minLength: 1, maxLength: 64, description: "R2: 'auto'" }),
    bucket: Type.String({ default: '', maxLength: 63, pattern: '^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' }),
    access_key_id: Type.String({ default: '', maxLength: 256 }),
    secret_access_key: Type.Union([Type.String({ maxLength: 256 }), Type.Null()], { default: '' }),
    prefix: Type.String({
      default: '',
      maxLength: 200,
      pattern: '^$|^[A-Za-z0-9._-][A-Za-z0-9._/-]*/$',
      description: "key prefix ending in '/', e.g. 'site-a/'; objects go to <prefix>archive/YYYY/MM/...",
    }),
    force_path_style: Type.Boolean({ default: true, description: 'path-style URLs (R2, MinIO); false for AWS virtual-hosted' }),
  },
  { additionalProperties: false },
);
export type StorageSettings = Static<typeof StorageSettingsSchema>;
export const STORAGE_SECRET_FIELDS = ['secret_access_key'] as const;

/** Result of "test connection": a small object written, read back and deleted. */
export const StorageTestResultSchema = Type.Object({
  ok: Type.Boolean(),
  /** 60001 when it failed. */
  code: Type.Optional(Type.Integer()),
  message: Type.String(),
  step: Type.Optional(Type.Union([Type.Literal('config'), Type.Literal('write'), Type.Literal('read'), Type.Literal('delete')])),
  duration_ms: Type.Integer(),
});
export type StorageTestResult = Static<typeof StorageTestResultSchema>;

/** One archived object (a site day, or a later part of it). */
export const ArchiveEntrySchema = Type.Object({
  day: Type.String({ description: 'site day YYYY-MM-DD' }),
  part: Type.Integer({ minimum: 1, description: '1; 2.. for readings of the day that arrived after it was archived' }),
  key: Type.String(),
  rows: Type.Integer(),
  bytes: Type.Integer(),
  sha256: Type.String(),
  archived_at: Type.Integer({ description: 'UTC ms' }),
  local_rows_deleted: Type.Boolean(),
});
export type ArchiveEntry = Static<typeof ArchiveEntrySchema>;

export const ArchiveStatusSchema = Type.Object({
  /** ARC-5: false → "archiving is off", nothing is deleted. */
  enabled: Type.Boolean(),
  retention_days: Type.Integer(),
  running: Type.Boolean(),
  last_attempt: Type.Union([Type.Null(), Type.Object({ day: Type.String(), status: Type.String(), at: Type.Integer(), error: Type.Union([Type.String(), Type.Null()]) })]),
  last_archived_day: Type.Union([Type.String(), Type.Null()]),
  last_success_at: Type.Union([Type.Integer(), Type.Null()]),
  /** Complete days past retention still on the box (waiting for archive). */
  pending_days: Type.Integer(),
});
export type ArchiveStatus = Static<typeof ArchiveStatusSchema>;

export const BackupEntrySchema = Type.Object({
  file: Type.String(),
  bytes: Type.Integer(),
  created_at: Type.Integer({ description: 'UTC ms' }),
  uploaded_key: Type.Union([Type.String(), Type.Null()]),
});
export type BackupEntry = Static<typeof BackupEntrySchema>;

export const JobStatusSchema = Type.Object({
  name: Type.String(),
  schedule: Type.String({ description: 'cron expression, site timezone' }),
  running: Type.Boolean(),
  last_started_at: Type.Union([Type.Integer(), Type.Null()]),
  last_duration_ms: Type.Union([Type.Integer(), Type.Null()]),
  last_ok: Type.Union([Type.Boolean(), Type.Null()]),
  last_result: Type.Unknown(),
  runs: Type.Integer(),
  failures: Type.Integer(),
  skipped_overlaps: Type.Integer(),
  next_run: Type.Union([Type.Integer({ description: 'UTC ms' }), Type.Null()]),
});
export type JobStatus = Static<typeof JobStatusSchema>;
