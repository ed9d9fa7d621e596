// ALM-3…ALM-6 wiring: alarm events → policy (schedule, always-notify, repeats) → outbox rows for
// the enabled channels → delivery through the channels, rendered in the site language. A channel
// that keeps failing becomes a CHANNEL system alarm through the same engine.
import { decide } from '../alarms/policy.ts';
import type { AlarmEngine } from '../alarms/engine.ts';
import type { AlarmEvent, AlarmRecord } from '../contract/alarm.ts';
import type { Bus } from '../core/bus.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { DeviceCache } from '../devices/cache.ts';
import type { AlarmRepository } from '../storage/alarms.ts';
import type { Db } from '../storage/db.ts';
import type { AlarmSettingsStore } from './alarm-settings.ts';
import { deliverNotice, isChannelKind } from './channels/index.ts';
import type { AlarmNotice, Language } from './message.ts';
import { createOutbox, type DeliveryResult, type OutboxOptions, type OutboxRow } from './outbox.ts';

export interface NotifierDeps {
  db: Db;
  bus: Bus;
  engine: AlarmEngine;
  alarms: AlarmRepository;
  devices: DeviceCache;
  settings: AlarmSettingsStore;
  clock: Clock;
  log: Logger;
  site: { language: Language; timezone: string };
  outbox?: Partial<OutboxOptions>;
  /** LIC-4: whether notifications may be sent now (false while the license is locked). Default: always. */
  mayNotify?: () => boolean;
}

export function createNotifier(deps: NotifierDeps) {
  const { bus, engine, alarms, devices, settings, clock, site } = deps;
  const log = deps.log.child({ stage: 'notify' });
  let unsubscribe: (() => void) | null = null;

  function noticeOf(alarm: AlarmRecord, event: AlarmNotice['event']): AlarmNotice {
    const device = alarm.sn ? devices.get(alarm.sn) : undefined;
    return {
      alarmId: alarm.id,
      event,
      type: alarm.type,
      sn: alarm.sn,
      deviceName: device?.name || alarm.sn || alarm.source,
      location: device?.location ?? '',
      value: event === 'cleared' ? alarm.peak : alarm.value,
      limit: alarm.threshold,
      unit: device?.unit ?? '',
      at: event === 'cleared' ? (alarm.cleared_at ?? alarm.updated_at) : alarm.triggered_at,
      detail: alarm.detail ?? undefined,
    };
  }

  async function deliver(row: OutboxRow, signal: AbortSignal): Promise<DeliveryResult> {
    const alarm = row.alarm_id === null ? undefined : alarms.get(row.alarm_id);
    const entry = isChannelKind(row.channel) ? settings.current().channels[row.channel] : undefined;
    if (!alarm || !entry || !isChannelKind(row.channel)) {
      return { ok: false, detail: !alarm ? 'alarm record missing' : 'channel not configured', retryable: false };
    }
    if (!entry.enabled) return { ok: false, detail: 'channel switched off', retryable: false };
    const notice = noticeOf(alarm, row.event === 'cleared' ? 'cleared' : 'raised');
    return deliverNotice(row.channel, entry.settings, notice, site, { timeoutMs: 15_000, signal });
  }

  const outbox = createOutbox({
    db: deps.db,
    clock,
    log,
    deliver,
    onChannelFailing: (channel, detail) => engine.raiseSystem('CHANNEL', `channel:${channel}`, `${channel}: ${detail}`),
    onChannelRecovered: (channel) => engine.clearSystem('CHANNEL', `channel:${channel}`),
    ...deps.outbox,
  });

  function onAlarm({ kind, alarm }: AlarmEvent) {
    // A clearing is news only for an alarm people were told about, and only once: the clearings
    // of suppressed repeats (a flapping reading) stay quiet like the repeats themselves (ALM-3).
    if (kind === 'cleared' && (alarm.notified_at === null || alarm.repeat_count > 0)) return;
    const at = kind === 'cleared' ? (alarm.cleared_at ?? clock.now()) : alarm.triggered_at;
    const decision = decide(kind, alarm.type, at, settings.current().schedule, site.timezone);
    if (deps.mayNotify && !deps.mayNotify()) {
      log.info({ id: alarm.id, type: alarm.type, source: alarm.source, kind }, 'license locked: alarm recorded, not sent (LIC-4)');
      return;
    }
    if (decision !== 'notify') {
      if (decision === 'log_only') log.info({ id: alarm.id, type: alarm.type, source: alarm.source }, 'alarm outside the schedule: recorded, not sent');
      return;
    }
    const channels = settings.enabledChannels();
    if (!channels.length) return;
    try {
      outbox.enqueue(alarm.id, kind, channels);
      if (kind === 'raised') alarms.markNotified(alarm.id, clock.now());
    } catch (err) {
      log.error({ err, id: alarm.id }, 'could not queue the notification');
    }
  }

  return {
    outbox,
    start() {
      unsubscribe = bus.on('alarm', onAlarm);
      outbox.start();
    },
    async stop() {
      unsubscribe?.();
      await outbox.stop();
    },
  };
}
export type Notifier = ReturnType<typeof createNotifier>;
