// ALM-5/ALM-6 delivery: the outbox rows an alarm event needs are written by the writer thread in
// the alarm's own transaction (ALM-8, notify/policy.ts decides them there); this stage sends them
// through the channels, rendered in the site language, and wakes at once on each committed alarm
// event (and on each escalation step queued, notify/escalation.ts). A channel that keeps failing is reported as a CHANNEL system condition (ALM-6). While
// the license is locked it keeps sending: a license never silences safety (LIC-4). An OFFLINE storm
// (issue 15.4, outbox.ts groups the rows) is one notice listing every detector it covers.
import type { AlarmRecord } from '../contract/alarm.ts';
import type { Bus } from '../core/bus.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { ReportSystemCondition } from '../core/system-conditions.ts';
import type { DeviceCache } from '../devices/cache.ts';
import type { AlarmRepository } from '../storage/alarms.ts';
import type { Db } from '../storage/db.ts';
import type { AlarmSettingsStore } from './alarm-settings.ts';
import { deliverNotice, isChannelKind } from './channels/index.ts';
import type { AlarmNotice, Language, OfflineDetector } from './message.ts';
import { isLinkageChannel, type LinkageDelivery } from './linkage.ts';
import { createOutbox, type DeliveryResult, type OutboxOptions, type OutboxRow } from './outbox.ts';

export interface NotifierDeps {
  db: Db;
  bus: Bus;
  alarms: AlarmRepository;
  devices: DeviceCache;
  settings: AlarmSettingsStore;
  clock: Clock;
  log: Logger;
  site: { language: Language; timezone: string };
  reportCondition: ReportSystemCondition;
  outbox?: Partial<OutboxOptions>;
  /** Issue 15.5: linkage actions (channel `linkage:<rule>`) go through the same outbox, retried alike. */
  linkage?: LinkageDelivery;
}

export function createNotifier(deps: NotifierDeps) {
  const { bus, alarms, devices, settings, clock, site } = deps;
  const log = deps.log.child({ stage: 'notify' });
  let unsubscribe: (() => void) | null = null;

  function noticeOf(alarm: AlarmRecord, event: AlarmNotice['event'], level = false, escalation?: number): AlarmNotice {
    const device = alarm.sn ? devices.get(alarm.sn) : undefined;
    return {
      alarmId: alarm.id,
      event,
      type: alarm.type,
      sn: alarm.sn,
      source: alarm.source,
      deviceName: device?.name || alarm.sn || alarm.source,
      location: device?.location ?? '',
      // A level change (ALM-9) is sent with the gas as it is now, the episode's peak.
      value: event === 'cleared' || level ? alarm.peak : alarm.value,
      level: alarm.level,
      priority: alarm.priority,
      limit: alarm.threshold,
      unit: device?.unit ?? '',
      at: event === 'cleared' ? (alarm.cleared_at ?? alarm.updated_at) : alarm.triggered_at,
      detail: alarm.detail ?? undefined,
      gas: device?.gas,
      escalation,
    };
  }

  async function deliver(row: OutboxRow, signal: AbortSignal, group?: OutboxRow[]): Promise<DeliveryResult> {
    if (isLinkageChannel(row.channel)) {
      return deps.linkage ? deps.linkage.deliver(row, signal) : { ok: false, detail: 'linkage not set up', retryable: false };
    }
    const alarm = row.alarm_id === null ? undefined : alarms.get(row.alarm_id);
    const entry = isChannelKind(row.channel) ? settings.current().channels[row.channel] : undefined;
    if (!alarm || !entry || !isChannelKind(row.channel)) {
      return { ok: false, detail: !alarm ? 'alarm record missing' : 'channel not configured', retryable: false };
    }
    if (!entry.enabled) return { ok: false, detail: 'channel switched off', retryable: false };
    // ALM-13: an escalation step says so and goes to the channel's escalation recipients, with the gas as it is now.
    const escalation = row.escalation_step ?? undefined;
    const notice = noticeOf(alarm, row.event === 'cleared' ? 'cleared' : 'raised', row.event === 'level' || escalation !== undefined, escalation);
    if (group) notice.group = stormListOf(group);
    return deliverNotice(row.channel, entry.settings, notice, site, { timeoutMs: 15_000, signal });
  }

  /** Issue 15.4: the detectors a grouped OFFLINE notice covers, the first to go (or, for returns, to come back) first. */
  function stormListOf(group: OutboxRow[]): OfflineDetector[] {
    return group
      .map((each) => (each.alarm_id === null ? undefined : alarms.get(each.alarm_id)))
      .filter((alarm): alarm is AlarmRecord => alarm !== undefined)
      .map((alarm) => {
        const device = alarm.sn ? devices.get(alarm.sn) : undefined;
        const at = group[0].event === 'cleared' ? (alarm.cleared_at ?? alarm.updated_at) : alarm.triggered_at; // one event per group
        return { sn: alarm.sn ?? alarm.source, deviceName: device?.name || alarm.sn || alarm.source, location: device?.location ?? '', at };
      })
      .sort((a, b) => a.at - b.at || a.sn.localeCompare(b.sn));
  }

  const outbox = createOutbox({
    db: deps.db,
    clock,
    log,
    deliver,
    onChannelFailing: (channel, detail) => deps.reportCondition('CHANNEL', `channel:${channel}`, { holds: true, detail: `${channel}: ${detail}` }),
    onChannelRecovered: (channel) => deps.reportCondition('CHANNEL', `channel:${channel}`, { holds: false }),
    storm: () => settings.current().offline_storm,
    ...deps.outbox,
  });

  return {
    outbox,
    start() {
      // The rows are committed with the alarm; sending starts now rather than at the next poll.
      unsubscribe = bus.on('alarm', () => outbox.wake());
      outbox.start();
    },
    async stop() {
      unsubscribe?.();
      await outbox.stop();
    },
  };
}
export type Notifier = ReturnType<typeof createNotifier>;
