// ARC-1 / API-7: the S3/R2 storage settings in system_config (key 'storage'). The secret key is
// sealed at rest (AES-256-GCM, core/secrets.ts) and redacted on read; a redacted value sent back
// unchanged keeps the stored secret. Environment-free: the admin sets it from the UI or API.
import { Value } from '@sinclair/typebox/value';
import { STORAGE_SECRET_FIELDS, StorageSettingsSchema, type StorageSettings } from '../contract/storage.ts';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { keepRedactedSecrets, openSecrets, redact, sealSecrets, type SecretBox } from '../core/secrets.ts';
import type { ConfigRepository } from '../storage/config.ts';

const KEY = 'storage';
export const DEFAULT_STORAGE_SETTINGS = Value.Default(StorageSettingsSchema, {}) as StorageSettings;

/** What must be set before archiving can be switched on. */
export function missingFields(settings: StorageSettings): string[] {
  const missing: string[] = [];
  if (!settings.bucket) missing.push('/bucket: required');
  if (!settings.access_key_id) missing.push('/access_key_id: required');
  if (!settings.secret_access_key) missing.push('/secret_access_key: required');
  return missing;
}

export function createStorageSettings({ config, box, clock }: { config: ConfigRepository; box: SecretBox; clock: Clock }) {
  let cached: { at: number; settings: StorageSettings } | null = null;
  const stored = () => config.get<StorageSettings>(KEY) ?? DEFAULT_STORAGE_SETTINGS;

  /** With the secret in clear, for the S3 client. Reloaded when the row changed (e.g. by the CLI). */
  function current(): StorageSettings {
    const at = config.updatedAt(KEY);
    if (cached && cached.at === at) return cached.settings;
    const settings = openSecrets(box, { ...DEFAULT_STORAGE_SETTINGS, ...stored() }, STORAGE_SECRET_FIELDS);
    cached = { at, settings };
    return settings;
  }

  /** Validates (60001 listing every problem) without storing; keeps a redacted secret. */
  function validate(input: unknown): StorageSettings {
    const withDefaults = Value.Default(StorageSettingsSchema, structuredClone(input ?? {})) as StorageSettings;
    const problems = [...Value.Errors(StorageSettingsSchema, withDefaults)].map((e) => `${e.path || '/'}: ${e.message}`);
    if (problems.length) throw new AppError('ARCHIVE_CONFIG_INVALID', problems, `invalid storage settings: ${problems.join('; ')}`);
    const settings = keepRedactedSecrets(withDefaults, current(), STORAGE_SECRET_FIELDS);
    settings.secret_access_key ??= '';
    if (settings.enabled) {
      const missing = missingFields(settings);
      if (missing.length) throw new AppError('ARCHIVE_CONFIG_INVALID', missing, `invalid storage settings: ${missing.join('; ')}`);
    }
    return settings;
  }

  return {
    current,
    /** ARC-5: archiving runs (and deletes local rows) only when switched on and complete. */
    enabled(): boolean {
      const settings = current();
      return settings.enabled && missingFields(settings).length === 0;
    },
    /** For the API (GET /api/config/storage): the secret as "******" when set, null when not. */
    redacted: (): StorageSettings => redact(current(), STORAGE_SECRET_FIELDS),
    validate,
    /** PUT /api/config/storage: validates, seals the secret, stores; returns the redacted result. */
    save(input: unknown): StorageSettings {
      const settings = validate(input);
      config.set(KEY, sealSecrets(box, settings, STORAGE_SECRET_FIELDS), clock.now());
      cached = null;
      return redact(current(), STORAGE_SECRET_FIELDS);
    },
  };
}
export type StorageSettingsStore = ReturnType<typeof createStorageSettings>;
