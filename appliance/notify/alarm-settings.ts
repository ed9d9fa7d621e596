// The alarm configuration in system_config (key 'alarm'): rules, debounce, schedule and channels.
// Channel secrets are sealed at rest and never leave in clear through redacted() (API-7); a
// redacted value sent back unchanged keeps the stored secret.
import { Value } from '@sinclair/typebox/value';
import { AlarmSettingsSchema, DEFAULT_ALARM_SETTINGS, type AlarmSettings } from '../contract/alarm.ts';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import { keepRedactedSecrets, openSecrets, redact, sealSecrets, type SecretBox } from '../core/secrets.ts';
import type { ConfigRepository } from '../storage/config.ts';
import { CHANNELS, CHANNEL_KINDS, type ChannelKind } from './channels/index.ts';

const KEY = 'alarm';

export { DEFAULT_ALARM_SETTINGS };

export function createAlarmSettings({ config, box, clock }: { config: ConfigRepository; box: SecretBox; clock: Clock }) {
  let cached: { at: number; settings: AlarmSettings } | null = null;
  function stored(): AlarmSettings {
    return (config.get<AlarmSettings>(KEY) ?? DEFAULT_ALARM_SETTINGS) as AlarmSettings;
  }

  /**
   * The settings with secrets in clear, for sending and for the alarm rules. Cached, and reloaded
   * when the stored row changed (one indexed read), so a change saved by another process — the
   * CLI — applies at once.
   */
  function current(): AlarmSettings {
    const at = config.updatedAt(KEY);
    if (cached && cached.at === at) return cached.settings;
    const settings = structuredClone(stored());
    for (const kind of CHANNEL_KINDS) {
      const entry = settings.channels[kind];
      if (entry) entry.settings = openSecrets(box, entry.settings, CHANNELS[kind].secretFields);
    }
    cached = { at, settings };
    return settings;
  }

  return {
    current,
    /** For the API: secrets replaced by "******". */
    redacted(): AlarmSettings {
      const settings = structuredClone(stored());
      for (const kind of CHANNEL_KINDS) {
        const entry = settings.channels[kind];
        if (entry) entry.settings = redact(entry.settings, CHANNELS[kind].secretFields);
      }
      return settings;
    },
    /** Validates everything (50001 listing every problem), keeps unchanged secrets, seals and stores. */
    save(input: unknown): AlarmSettings {
      const withDefaults = Value.Default(AlarmSettingsSchema, structuredClone(input ?? {}));
      const problems = [...Value.Errors(AlarmSettingsSchema, withDefaults)].map((e) => `${e.path || '/'}: ${e.message}`);
      const settings = withDefaults as AlarmSettings;
      const previous = current();
      if (!problems.length) {
        for (const kind of CHANNEL_KINDS) {
          const entry = settings.channels[kind];
          if (!entry) continue;
          const kept = keepRedactedSecrets(entry.settings, previous.channels[kind]?.settings ?? {}, CHANNELS[kind].secretFields);
          try {
            entry.settings = sealSecrets(box, CHANNELS[kind].validate(kept) as Record<string, unknown>, CHANNELS[kind].secretFields);
          } catch (err) {
            if (!(err instanceof AppError)) throw err;
            const detail = Array.isArray(err.detail) ? err.detail : [err.message];
            problems.push(...detail.map((p: unknown) => `/channels/${kind}: ${String(p)}`));
          }
        }
      }
      if (problems.length) throw new AppError('ALARM_CONFIG_INVALID', problems, `invalid alarm settings: ${problems.join('; ')}`);
      config.set(KEY, settings, clock.now());
      cached = null; // a save within the same millisecond as the last one must not hit the cache
      return current();
    },
    /** The channels switched on, in a fixed order. */
    enabledChannels(): ChannelKind[] {
      const { channels } = current();
      return CHANNEL_KINDS.filter((kind) => channels[kind]?.enabled);
    },
  };
}
export type AlarmSettingsStore = ReturnType<typeof createAlarmSettings>;
