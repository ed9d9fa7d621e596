// The alarm configuration in system_config (key 'alarm'): rules, debounce, schedule and channels.
// Channel secrets are sealed at rest and never leave in clear through redacted() (API-7); a
// redacted value sent back unchanged keeps the stored secret.
import { Value } from '@sinclair/typebox/value';
import {
  ALARM_PRIORITIES, AlarmSettingsSchema, ackCommentRequired, DEFAULT_ALARM_SETTINGS, type AlarmPriority, type AlarmRecord, type AlarmSettings,
} from '../contract/alarm.ts';
import { alarmPriorityLabel } from '../contract/alarm-labels.ts';
import { linkageProblems } from '../contract/linkage.ts';
import type { Language } from '../contract/site-format.ts';
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
    const saved = config.get<AlarmSettings>(KEY);
    // Settings saved before a field existed (escalation, ack_comment_required) read with its default.
    return saved ? (Value.Default(AlarmSettingsSchema, structuredClone(saved)) as AlarmSettings) : DEFAULT_ALARM_SETTINGS;
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
      if (entry) entry.settings = openSecrets(box, entry.settings, CHANNELS[kind]);
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
        if (entry) entry.settings = redact(entry.settings, CHANNELS[kind], box);
      }
      return settings;
    },
    /** Validates everything (50001 listing every problem), keeps unchanged secrets, seals and stores. */
    save(input: unknown): AlarmSettings {
      const withDefaults = Value.Default(AlarmSettingsSchema, structuredClone(input ?? {}));
      const problems = [...Value.Errors(AlarmSettingsSchema, withDefaults)].map((e) => `${e.path || '/'}: ${e.message}`);
      const settings = withDefaults as AlarmSettings;
      const previous = current();
      if (!problems.length) problems.push(...escalationProblems(settings), ...linkageProblems(settings.linkage));
      if (!problems.length) {
        for (const kind of CHANNEL_KINDS) {
          const entry = settings.channels[kind];
          if (!entry) continue;
          const kept = keepRedactedSecrets(entry.settings, previous.channels[kind]?.settings ?? {}, CHANNELS[kind]);
          try {
            entry.settings = sealSecrets(box, CHANNELS[kind].validate(kept) as Record<string, unknown>, CHANNELS[kind]);
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
    /** ALM-11: per priority, whether acknowledging needs a comment (GET /api/alarms/ack-policy). */
    ackPolicy(): Record<AlarmPriority, boolean> {
      const { ack_comment_required: required } = current();
      return Object.fromEntries(ALARM_PRIORITIES.map((p) => [p, ackCommentRequired(required, p)])) as Record<AlarmPriority, boolean>;
    },
    /**
     * ALM-11: refuses (400, ACK_COMMENT_REQUIRED) to acknowledge without a comment any of `records`
     * not yet acknowledged whose priority needs one. Those already acknowledged are not changed by
     * an acknowledgement, so they need nothing.
     */
    requireAckComment(records: Pick<AlarmRecord, 'id' | 'priority' | 'ack_at'>[], comment: string | undefined): void {
      if (comment?.trim()) return;
      const { ack_comment_required: required } = current();
      const needing = records.filter((r) => r.ack_at === null && ackCommentRequired(required, r.priority));
      if (!needing.length) return;
      const ids = needing.map((r) => `#${r.id}`).join(', ');
      const priorities = [...new Set(needing.map((r) => r.priority))];
      const label = (language: Language) => priorities.map((p) => alarmPriorityLabel(p, language)).join('/');
      throw new AppError('ACK_COMMENT_REQUIRED', { ids: needing.map((r) => r.id), priorities },
        `a comment is required to acknowledge ${label('en')} priority alarm ${ids}: say what was found and done / `
        + `确认优先级为「${label('zh-CN')}」的报警 ${ids} 须填写处理说明：发现了什么、做了什么`);
    },
    /** The channels switched on, in a fixed order. */
    enabledChannels(): ChannelKind[] {
      const { channels } = current();
      return CHANNEL_KINDS.filter((kind) => channels[kind]?.enabled);
    },
  };
}
export type AlarmSettingsStore = ReturnType<typeof createAlarmSettings>;

/** ALM-13: a second step comes after the first. */
function escalationProblems(settings: AlarmSettings): string[] {
  return ALARM_PRIORITIES.flatMap((priority) => {
    const [first, second] = settings.escalation[priority] ?? [];
    return second !== undefined && second <= first
      ? [`/escalation/${priority}: step 2 (${second} min) must come after step 1 (${first} min)`]
      : [];
  });
}
