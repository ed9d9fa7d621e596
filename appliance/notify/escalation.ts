// ALM-13 escalation (seed: unhandled alarms go up to a supervisor). An alarm still listed (active, or
// a latched gas alarm) and unacknowledged N minutes after it was raised is notified again to each
// channel's escalation recipients — step 1, then step 2, at the minutes its priority is set to;
// acknowledging it stops it. Nothing is kept in memory: each run derives the due steps from the
// alarm rows and their journal ('escalated' entries with their step) and, in one IMMEDIATE
// transaction, journals each step and queues its outbox rows. A step is therefore queued exactly
// once — a restart neither loses one (it is due at the next run) nor repeats one (its journal entry
// committed with its rows) — and the outbox delivers it with retries like any notification (ALM-6).
// Runs on the main thread, on the injected clock; a run never throws out of its timer.
//
// Masks (issue 15.1, ISA-18.2 shelving): an alarm of a detector under a mask in force never
// escalates — nobody was told of it, and the maintenance the mask is for is going on. Once the
// mask has ended (by hand, or past its `until` even before the expiry job ends it) an alarm still
// unacknowledged escalates counted from the mask's end, not from its raise: that is when its
// first notification went out (the held-back notice is queued at the unmask), so the supervisor
// hears of it only after the people on the list had their minutes to act.
import { ALARM_PRIORITIES, type AlarmRecord, type AlarmSettings } from '../contract/alarm.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Db } from '../storage/db.ts';
import { CHANNEL_KINDS, escalationSettings } from './channels/index.ts';
import { escalationSent } from './policy.ts';

export const ESCALATION_EVENT = 'escalation';

export interface EscalationDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  /** The alarm settings with channel secrets opened (alarm-settings.ts `current()`). */
  settings: () => AlarmSettings;
  /** The site timezone of the notification schedule. */
  timezone: string;
  /** Outbox rows were committed: send them now rather than at the outbox's next poll. */
  onQueued?: () => void;
  /** How often due steps are looked for; default 15 s (a step is at most that late). */
  pollMs?: number;
}

export interface EscalatedStep {
  alarmId: number;
  step: number;
  channels: string[];
}

/** The listed, unacknowledged alarms of the priorities that escalate, of sources under no mask in force now. */
const CANDIDATES = `
  SELECT * FROM alarms
  WHERE (state = 'active' OR latched = 1) AND ack_at IS NULL AND priority IN (SELECT value FROM json_each(@priorities))
    AND NOT EXISTS (SELECT 1 FROM device_masks m WHERE m.sn = alarms.source AND m.ended_at IS NULL AND m.until > @now)
  ORDER BY id`;

export function createEscalation(deps: EscalationDeps) {
  const { db, clock } = deps;
  const log = deps.log.child({ stage: 'escalation' });
  const candidates = db.prepare<[{ priorities: string; now: number }], AlarmRecord>(CANDIDATES);
  // When the newest mask of a source that ended after `since` ended (a mask past its time ends at its `until`).
  const maskEndedAfter = db.prepare<[{ sn: string; since: number }], number | null>(
    'SELECT max(min(coalesce(ended_at, until), until)) FROM device_masks WHERE sn = @sn AND min(coalesce(ended_at, until), until) > @since',
  ).pluck();
  // Unacknowledged since: the first raise (or re-raise) after the last acknowledgement. A flapping
  // alarm nobody acknowledged keeps its first raise; a reopened one that was acknowledged starts anew.
  const lastAck = db.prepare<[number], number | null>("SELECT max(id) FROM alarm_journal WHERE alarm_id = ? AND kind = 'acknowledged'").pluck();
  const raisedAfter = db.prepare<[number, number], { id: number; at: number }>(
    "SELECT id, at FROM alarm_journal WHERE alarm_id = ? AND kind IN ('raised', 'repeat') AND id > ? ORDER BY id LIMIT 1",
  );
  const stepsDone = db.prepare<[number, number], number | null>(
    "SELECT max(step) FROM alarm_journal WHERE alarm_id = ? AND kind = 'escalated' AND id > ?",
  ).pluck();
  const journal = db.prepare<[{ alarmId: number; at: number; level: number | null; value: number | null; step: number; detail: string }]>(
    "INSERT INTO alarm_journal (alarm_id, at, kind, level, value, step, detail) VALUES (@alarmId, @at, 'escalated', @level, @value, @step, @detail)",
  );
  const queue = db.prepare<[{ alarmId: number; channel: string; step: number; at: number }]>(`
    INSERT INTO notification_outbox (alarm_id, event, channel, status, next_attempt_at, created_at, updated_at, escalation_step)
    VALUES (@alarmId, '${ESCALATION_EVENT}', @channel, 'pending', @at, @at, @at, @step)`);

  let timer: NodeJS.Timeout | null = null;

  function unacknowledgedSince(alarm: AlarmRecord): { id: number; at: number } {
    const since = raisedAfter.get(alarm.id, lastAck.get(alarm.id) ?? 0) ?? { id: 0, at: alarm.triggered_at };
    // Issue 15.1: counted from the end of a mask it stood under (see the top of this file).
    const unmaskedAt = alarm.sn === null ? null : (maskEndedAfter.get({ sn: alarm.sn, since: since.at }) ?? null);
    return unmaskedAt === null ? since : { id: since.id, at: unmaskedAt };
  }

  /** The enabled channels with escalation recipients, in the fixed channel order. */
  function escalationChannels(settings: AlarmSettings): string[] {
    return CHANNEL_KINDS.filter((kind) => {
      const entry = settings.channels[kind];
      return entry?.enabled === true && escalationSettings(kind, entry.settings) !== null;
    });
  }

  /** Journals step `step` of `alarm` and queues its notifications; in the caller's transaction. */
  function escalate(alarm: AlarmRecord, step: number, afterMin: number, settings: AlarmSettings, now: number): EscalatedStep {
    const targets = escalationChannels(settings);
    const sent = targets.length > 0 && escalationSent(alarm.type, now, settings.schedule, deps.timezone);
    const why = !targets.length
      ? 'no enabled channel has escalation recipients'
      : sent ? `to the escalation recipients of ${targets.join(', ')}` : 'outside the notification schedule (LOG_ONLY)';
    journal.run({ alarmId: alarm.id, at: now, level: alarm.level, value: alarm.peak, step, detail: `step ${step}, ${afterMin} min unacknowledged: ${why}` });
    if (!sent) return { alarmId: alarm.id, step, channels: [] };
    for (const channel of targets) queue.run({ alarmId: alarm.id, channel, step, at: now });
    return { alarmId: alarm.id, step, channels: targets };
  }

  /** Queues every escalation step that is due now; returns them (tests, logs). */
  function runDue(): EscalatedStep[] {
    const settings = deps.settings();
    const now = clock.now();
    const escalating = ALARM_PRIORITIES.filter((priority) => (settings.escalation?.[priority]?.length ?? 0) > 0);
    if (!escalating.length) return [];
    const done = db.transaction(() => {
      const steps: EscalatedStep[] = [];
      for (const alarm of candidates.all({ priorities: JSON.stringify(escalating), now })) {
        const minutes = settings.escalation[alarm.priority];
        const since = unacknowledgedSince(alarm);
        // Every step due is queued, in order: after a long stop, none is lost.
        for (let step = (stepsDone.get(alarm.id, since.id) ?? 0) + 1; step <= minutes.length; step++) {
          if (now < since.at + minutes[step - 1] * 60_000) break;
          steps.push(escalate(alarm, step, minutes[step - 1], settings, now));
        }
      }
      return steps;
    }).immediate(); // waits for the writer's lock; the acknowledgement it races is either in or not
    if (done.length) {
      log.info({ escalated: done.map(({ alarmId, step, channels }) => ({ alarm: alarmId, step, channels })) }, 'unacknowledged alarms escalated');
      if (done.some((s) => s.channels.length)) deps.onQueued?.();
    }
    return done;
  }

  function runSafely() {
    try {
      runDue();
    } catch (err) {
      // Logged, never swallowed: the next run retries (a busy database, a bug) — the steps stay due.
      log.error({ err }, 'escalation run failed');
    }
  }

  return {
    runDue,
    start() {
      timer = setInterval(runSafely, deps.pollMs ?? 15_000);
      timer.unref();
      runSafely(); // steps that fell due while the appliance was stopped
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
export type Escalation = ReturnType<typeof createEscalation>;
