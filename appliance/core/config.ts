// SPEC §12: one validated config — embedded defaults, then a JSON file (`--config` or MCS_CONFIG),
// then MCS_* environment variables. Every error is listed; the caller exits 78 (EX_CONFIG) so
// systemd's RestartPreventExitStatus=78 does not loop on a broken config.
import { accessSync, constants, readFileSync } from 'node:fs';
import cron from 'node-cron';
import { Type, type Static, type TSchema, Kind } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Port = (dflt: number) => Type.Integer({ minimum: 0, maximum: 65535, default: dflt });

export const ConfigSchema = Type.Object(
  {
    data_dir: Type.String({ minLength: 1, default: './data', description: 'database, keys, backups' }),
    site: Type.Object(
      {
        timezone: Type.String({ default: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' }),
        language: Type.Union([Type.Literal('zh-CN'), Type.Literal('en')], { default: 'zh-CN' }),
      },
      { default: {}, additionalProperties: false },
    ),
    http: Type.Object(
      {
        host: Type.String({ default: '0.0.0.0' }),
        port: Port(8080),
        tls_cert: Type.String({ default: '', description: 'PEM file; the admin UI, kiosk and API are HTTPS when cert and key are set' }),
        tls_key: Type.String({ default: '' }),
      },
      { default: {}, additionalProperties: false },
    ),
    mqtt: Type.Object(
      {
        host: Type.String({ default: '0.0.0.0' }),
        port: Port(1883),
        tls_port: Port(8883),
        tls_cert: Type.String({ default: '', description: 'PEM file; TLS listener only when cert and key are set' }),
        tls_key: Type.String({ default: '' }),
        factory_secret: Type.String({ default: '', description: 'DEV-5 derived passwords; empty = disabled' }),
        admin_password: Type.String({ default: '', description: "optional 'admin' debug user; empty = disabled" }),
        max_packet_bytes: Type.Integer({
          minimum: 8192, maximum: 268_435_455, default: 16_384,
          description: 'largest MQTT packet (remaining length) read from anyone; a larger one closes the connection as soon as its header announces it (readings are ≤ 4 KB)',
        }),
        connect_timeout_s: Type.Integer({
          minimum: 1, maximum: 300, default: 10,
          description: 'a new connection (and a TLS handshake) must complete its CONNECT within this, or it is closed',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    ingest: Type.Object(
      {
        offline_timeout_s: Type.Integer({ minimum: 10, maximum: 86_400, default: 90 }),
        offline_grace_s: Type.Integer({
          minimum: 0, maximum: 3_600, default: 60,
          description: 'issue 15.4: a device that leaves (Last Will, offline status, dropped connection) and is back within this raises no OFFLINE; 0 = at once',
        }),
        reboot_grace_s: Type.Integer({
          minimum: 0, maximum: 3_600, default: 180,
          description: 'issue 15.4: after a reboot command the device may stay away this long (from the command) before OFFLINE',
        }),
        clock_skew_s: Type.Integer({ minimum: 10, maximum: 86_400, default: 300 }),
        commit_interval_ms: Type.Integer({ minimum: 0, maximum: 1000, default: 4 }),
        commit_max_rows: Type.Integer({ minimum: 1, maximum: 100_000, default: 4000 }),
        queue_limit: Type.Integer({
          minimum: 1000, maximum: 10_000_000, default: 200_000,
          description: 'readings waiting for the group commit at most; beyond it a reading is refused (no PUBACK: the detector resends) and counted (issue 16.8)',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    storage: Type.Object(
      {
        retention_days: Type.Integer({ minimum: 1, maximum: 3650, default: 3 }),
        rollup_1m_days: Type.Integer({ minimum: 1, maximum: 3650, default: 30 }),
        rollup_1h_days: Type.Integer({ minimum: 1, maximum: 36_500, default: 730 }),
        disk_low_free_mb: Type.Integer({
          minimum: 1, maximum: 10_000_000, default: 1024,
          description: 'STO-4: below this free space (MB, disk plus reusable database pages) a DISK system alarm',
        }),
        disk_critical_free_mb: Type.Integer({
          minimum: 1, maximum: 10_000_000, default: 256,
          description: 'STO-4: below this, raw data is pruned: archived first, then (alarmed) the oldest unarchived',
        }),
        wal_limit_mb: Type.Integer({
          minimum: 0, maximum: 1024, default: 0,
          description: 'STO-4: the WAL is checkpointed and truncated when it grows past this (MB); 0 = 1/64 of the data dir file system, between 1 and 64 MB',
        }),
        synchronous: Type.Union([Type.Literal('NORMAL'), Type.Literal('FULL')], {
          default: 'FULL',
          description: 'FULL: a PUBACKed reading survives a power cut too; NORMAL: a process crash only',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    archive: Type.Object(
      {
        schedule: Type.String({ default: '0 2 * * *', description: 'ARC-1 nightly archive (cron, site time)' }),
        backup_schedule: Type.String({ default: '0 3 * * 0', description: 'ARC-4 weekly backup (cron, site time)' }),
        backups_keep: Type.Integer({ minimum: 1, maximum: 365, default: 4, description: 'ARC-4 local backups kept' }),
      },
      { default: {}, additionalProperties: false },
    ),
    calibration: Type.Object(
      {
        interval_days: Type.Integer({ minimum: 1, maximum: 3650, default: 365, description: 'issue 15.2 (JJG 693-2011: at most a year): calibration interval, site default; a device may set its own' }),
        bump_test_days: Type.Integer({ minimum: 0, maximum: 3650, default: 0, description: 'bump-test interval, site default (e.g. 30); 0 = none' }),
        due_lead_days: Type.Integer({ minimum: 0, maximum: 365, default: 30, description: 'CAL_DUE (low priority) this many days before the calibration is due; CAL_OVERDUE after it' }),
      },
      { default: {}, additionalProperties: false },
    ),
    license: Type.Object(
      {
        file: Type.String({ default: '', description: "LIC-2 license file; empty = <data_dir>/license.key (a file placed there is picked up while running)" }),
        server_url: Type.String({
          default: '',
          description: "LIC-3 vendor's license server, e.g. https://license.example.com; empty = none: an online license runs on its 72 h grace, then locks",
        }),
        machine_id: Type.String({ default: '', description: 'LIC-1 machine id override (tests, containers); empty = /etc/machine-id' }),
        timeout_s: Type.Integer({ minimum: 1, maximum: 300, default: 15 }),
      },
      { default: {}, additionalProperties: false },
    ),
    admin: Type.Object(
      { password: Type.String({ default: '', description: 'first admin password (API-4)' }) },
      { default: {}, additionalProperties: false },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
        file: Type.String({ default: '', description: 'JSON log file (rotated); empty = stdout' }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type Config = Static<typeof ConfigSchema>;

export type ConfigResult = { ok: true; config: Config; warnings: string[] } | { ok: false; errors: string[] };

export interface ConfigSources {
  file?: string;
  env?: Record<string, string | undefined>;
  overrides?: Record<string, unknown>;
}

/** Env var names derived from the schema: `mqtt.tls_cert` → MCS_MQTT_TLS_CERT. */
export function envNameOf(path: string[]): string {
  return 'MCS_' + path.join('_').toUpperCase();
}

const NON_CONFIG_ENV = new Set(['MCS_CONFIG', 'MCS_LICENSE_DEV_PUBLIC_KEY_FILE']);

export function loadConfig(sources: ConfigSources = {}): ConfigResult {
  const errors: string[] = [];
  const warnings: string[] = [];
  let raw: Record<string, unknown> = {};
  if (sources.file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(sources.file, 'utf8'));
      if (!isPlainObject(parsed)) errors.push(`${sources.file}: must hold a JSON object`);
      else raw = parsed;
    } catch (err) {
      errors.push(`${sources.file}: ${(err as Error).message}`);
    }
  }
  applyEnv(raw, sources.env ?? {}, errors, warnings);
  if (sources.overrides) deepMerge(raw, sources.overrides);

  // Every error is listed: file, environment, schema and the rules between settings.
  const withDefaults = Value.Default(ConfigSchema, Value.Clone(raw));
  const schemaErrors = [...Value.Errors(ConfigSchema, withDefaults)].map(
    (e) => `${e.path.slice(1).replaceAll('/', '.') || '(root)'}: ${e.message}${describeValue(e.value)}`,
  );
  errors.push(...schemaErrors);
  const config = withDefaults as Config;
  crossChecks(config, errors, schemaErrors.length > 0);
  if (errors.length) return { ok: false, errors };
  return { ok: true, config, warnings };
}

/** Rules between settings; with `partial` (the schema failed) only those whose inputs are sound. */
function crossChecks(config: Config, errors: string[], partial = false): void {
  const { mqtt, http } = config;
  const isText = (value: unknown) => typeof value === 'string';
  if (partial && !(isPlainObject(mqtt) && isPlainObject(http) && isPlainObject(config.site))) return;
  for (const [section, tls] of [['mqtt', mqtt], ['http', http]] as const) {
    if (Boolean(tls.tls_cert) !== Boolean(tls.tls_key)) errors.push(`${section}.tls_cert / ${section}.tls_key: set both or neither`);
    for (const key of ['tls_cert', 'tls_key'] as const) {
      const file = tls[key];
      if (!isText(file) || !file) continue;
      try {
        accessSync(file, constants.R_OK);
      } catch (err) {
        errors.push(`${section}.${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    }
  }
  if (mqtt.port !== 0 && mqtt.port === http.port) errors.push('mqtt.port: must differ from http.port');
  if (mqtt.tls_cert && mqtt.tls_port !== 0 && mqtt.tls_port === mqtt.port) {
    errors.push('mqtt.tls_port: must differ from mqtt.port');
  }
  if (isPlainObject(config.storage) && config.storage.disk_critical_free_mb >= config.storage.disk_low_free_mb) {
    errors.push('storage.disk_critical_free_mb: must be below storage.disk_low_free_mb');
  }
  if (isPlainObject(config.archive)) {
    for (const key of ['schedule', 'backup_schedule'] as const) {
      if (isText(config.archive[key]) && !cron.validate(config.archive[key])) {
        errors.push(`archive.${key}: '${config.archive[key]}' is not a cron expression (e.g. '0 2 * * *')`);
      }
    }
  }
  if (isPlainObject(config.license) && isText(config.license.server_url) && config.license.server_url) {
    let url: URL | null = null;
    try {
      url = new URL(config.license.server_url);
    } catch {
      url = null;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol)) errors.push(`license.server_url: not an http(s) URL ('${config.license.server_url}')`);
  }
  if (!isText(config.site.timezone)) return;
  try {
    new Intl.DateTimeFormat('en', { timeZone: config.site.timezone });
  } catch {
    errors.push(`site.timezone: unknown time zone '${config.site.timezone}'`);
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value);
  return text && text.length <= 60 ? ` (got ${text})` : '';
}

function applyEnv(target: Record<string, unknown>, env: Record<string, string | undefined>, errors: string[], warnings: string[]) {
  const leaves = schemaLeaves(ConfigSchema, []);
  const known = new Map(leaves.map((leaf) => [envNameOf(leaf.path), leaf]));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('MCS_') || value === undefined || NON_CONFIG_ENV.has(name)) continue;
    const leaf = known.get(name);
    if (!leaf) {
      warnings.push(`${name}: not a known setting, ignored`);
      continue;
    }
    const converted = convertEnvValue(leaf.schema, value);
    if (converted === undefined) {
      errors.push(`${leaf.path.join('.')}: ${name}='${value}' is not a valid ${leaf.schema.type}`);
      continue;
    }
    setPath(target, leaf.path, converted);
  }
}

function convertEnvValue(schema: TSchema, value: string): unknown {
  switch (schema.type) {
    case 'integer':
    case 'number': {
      if (value.trim() === '') return undefined;
      const n = Number(value);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'boolean':
      return value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : undefined;
    default:
      return value;
  }
}

function schemaLeaves(schema: TSchema, path: string[]): { path: string[]; schema: TSchema }[] {
  if (schema[Kind] === 'Object') {
    return Object.entries(schema.properties as Record<string, TSchema>).flatMap(([key, child]) =>
      schemaLeaves(child, [...path, key]),
    );
  }
  return [{ path, schema: schema.type ? schema : { ...schema, type: 'string' } }];
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown) {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>) {
  for (const [key, value] of Object.entries(source)) {
    if (isPlainObject(value) && isPlainObject(target[key])) deepMerge(target[key] as Record<string, unknown>, value);
    else target[key] = value;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Exit status for an unusable configuration (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;
