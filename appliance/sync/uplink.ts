// Issue 17: the uplink stage — one sender per configured target, each with its own transport and
// cursor, started, changed and stopped as the settings change (UplinkControl); cloud commands
// (SYNC-5) applied through the writer like every alarm write; the SYNC system alarm when a
// target lags (issue 17.7); the log rows every target acknowledged pruned. Off by default: with
// no target nothing runs and the writer logs no batch (storage/uplink-log.ts).
import { Value } from '@sinclair/typebox/value';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { ReportSystemCondition } from '../core/system-conditions.ts';
import type { Db } from '../storage/db.ts';
import {
  CloudCommandSchema, type CloudCommand, type UplinkSettings, type UplinkStatus, type UplinkTarget, type UplinkTransport,
} from '../contract/uplink.ts';
import type { UplinkControl, UplinkTestResult } from './control.ts';
import { createUplinkQueue } from './queue.ts';
import { createSender, type Sender } from './sender.ts';

const LAG_CHECK_MS = 5_000;
const PRUNE_EVERY_MS = 10_000;

export interface UplinkOptions {
  db: Db;
  clock: Clock;
  log: Logger;
  /** The stored settings (secrets opened) and this box's id (sync/settings.ts). */
  settings: { load(): UplinkSettings; boxId(): string };
  /** The transport of a target (sync/transports). */
  createTransport: (target: UplinkTarget, context: { boxId: string; log: Logger }) => UplinkTransport;
  /** SYNC-6: whether the box's clock was unsynchronised at a time (core/clock-trust.ts). */
  clockUnsyncedAt: (at: number) => boolean;
  clockSynced: () => boolean;
  /** ALM-2 acknowledgement through the writer (SYNC-5: from the cloud, with the remote user's name). */
  acknowledge: (ids: number[], by: string, comment: string) => Promise<unknown>;
  reportCondition: ReportSystemCondition;
  /** A committed alarm change: alarms go out at once, not at the next tick. */
  onAlarm: (listener: () => void) => () => void;
}

export function createUplink(options: UplinkOptions) {
  const { db, clock, log, settings } = options;
  const queue = createUplinkQueue(db, { boxId: () => settings.boxId(), clockUnsyncedAt: options.clockUnsyncedAt });
  const senders = new Map<string, Sender>();
  const lagging = new Set<string>();
  let lagTimer: NodeJS.Timeout | null = null;
  let pruneTimer: NodeJS.Timeout | null = null;
  let unsubscribe: (() => void) | null = null;

  function startSender(target: UplinkTarget): Sender {
    const transportLog = log.child({ stage: 'uplink', target: target.id });
    const transport = options.createTransport(target, { boxId: settings.boxId(), log: transportLog });
    const sender = createSender({ target, queue, transport, clock, log: transportLog });
    let wasConnected = false;
    transport.onState((state) => {
      if (state.connected && !wasConnected) sender.reconnected();
      wasConnected = state.connected;
    });
    if (target.cloud_commands) transport.onCommand((raw) => void applyCommand(target, sender, raw));
    transport.start();
    sender.start();
    return sender;
  }

  /** SYNC-5: an acknowledgement (journaled with the remote user's name) or a resend request. */
  async function applyCommand(target: UplinkTarget, sender: Sender, raw: unknown) {
    if (!Value.Check(CloudCommandSchema, raw)) {
      const problem = [...Value.Errors(CloudCommandSchema, raw)][0];
      log.warn({ target: target.id, problem: problem ? `${problem.path} ${problem.message}` : 'invalid' }, 'uplink: a cloud command was not understood and is ignored');
      return;
    }
    const command = Value.Default(CloudCommandSchema, raw) as CloudCommand;
    if (command.cmd === 'ack') {
      try {
        // The acknowledgement is an operator's (ALM-7); it never silences the kiosk's sound (GB 16808: 消音 is local).
        await options.acknowledge(command.alarm_ids, `cloud:${target.id}:${command.by}`, command.comment);
        log.info({ target: target.id, alarms: command.alarm_ids, by: command.by }, 'uplink: alarms acknowledged from the cloud');
      } catch (err) {
        log.warn({ target: target.id, err: (err as Error).message }, 'uplink: a cloud acknowledgement could not be applied');
      }
    } else {
      sender.requestResend(command.from, command.to, command.sns);
      log.info({ target: target.id, from: command.from, to: command.to }, 'uplink: resend requested by the cloud');
    }
  }

  function reload() {
    let wanted: UplinkTarget[];
    try {
      wanted = settings.load().targets.filter((t) => t.enabled);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'uplink: the settings could not be read; targets keep running as they were');
      return;
    }
    const ids = new Set(wanted.map((t) => t.id));
    for (const [id, sender] of senders) {
      if (!ids.has(id)) {
        senders.delete(id);
        void sender.stop();
        queue.dropCursor(id); // removed or switched off: its backlog is no longer kept
        clearLag(id);
      }
    }
    for (const target of wanted) {
      const running = senders.get(target.id);
      if (running && sameTarget(running.target, target)) {
        if (running.target.paused !== target.paused) running.setPaused(target.paused);
        continue;
      }
      if (running) void running.stop();
      senders.set(target.id, startSender(target));
    }
  }

  function clearLag(id: string) {
    if (lagging.delete(id)) options.reportCondition('SYNC', `uplink:${id}`, { holds: false });
  }

  /** Issue 17.7: a SYNC system alarm while a target's oldest unacknowledged record is older than its threshold. */
  function checkLag() {
    for (const [id, sender] of senders) {
      const status = sender.status();
      const holds = status.lag_s > sender.target.lag_alarm_s;
      if (holds && !lagging.has(id)) {
        lagging.add(id);
        options.reportCondition('SYNC', `uplink:${id}`, {
          holds: true, value: Math.round(status.lag_s),
          detail: `cloud target ${id}: ${status.backlog} records wait, the oldest ${Math.round(status.lag_s)} s${status.last_error ? ` (${status.last_error})` : ''} / 云端目标 ${id} 滞后 ${Math.round(status.lag_s)} 秒`,
        });
      } else if (!holds) clearLag(id);
    }
  }

  const control: UplinkControl = {
    status(): UplinkStatus {
      return { box_id: settings.boxId(), clock_synced: options.clockSynced(), targets: [...senders.values()].map((s) => s.status()) };
    },
    setPaused(id, paused) {
      const sender = senders.get(id);
      if (!sender) return false;
      sender.setPaused(paused);
      return true;
    },
    async test(target): Promise<UplinkTestResult> {
      // Transports answer "OK: …" or "Failed: …" (sync/transports/failures.ts).
      const result = (message: string) => ({ ok: message.startsWith('OK:'), message });
      const running = senders.get(target.id);
      if (running && sameTarget(running.target, target)) return result(await running.testLink());
      const transport = options.createTransport(target, { boxId: settings.boxId(), log: log.child({ stage: 'uplink', target: target.id, test: true }) });
      try {
        return result(await transport.test());
      } finally {
        await transport.close().catch(() => undefined);
      }
    },
    reload,
  };

  return {
    control,
    start() {
      reload();
      unsubscribe = options.onAlarm(() => {
        for (const sender of senders.values()) sender.wake();
      });
      lagTimer = setInterval(checkLag, LAG_CHECK_MS);
      pruneTimer = setInterval(() => {
        try {
          queue.prune();
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'uplink: acknowledged log rows could not be pruned now; tried again shortly');
        }
      }, PRUNE_EVERY_MS);
      lagTimer.unref?.();
      pruneTimer.unref?.();
    },
    async stop() {
      unsubscribe?.();
      if (lagTimer) clearInterval(lagTimer);
      if (pruneTimer) clearInterval(pruneTimer);
      await Promise.all([...senders.values()].map((s) => s.stop()));
      senders.clear();
    },
    /** The batch log's queue: the disk guard cuts its oldest keys (STO-4, app.ts). */
    queue,
  };
}
export type Uplink = ReturnType<typeof createUplink>;

/** The same target but for its pause switch (an operator's, not a setting of the link). */
function sameTarget(a: UplinkTarget, b: UplinkTarget): boolean {
  return JSON.stringify({ ...a, paused: false }) === JSON.stringify({ ...b, paused: false });
}
