// ING-1…ING-7: a device's publish → decode/validate → calibrate → sequence and clock checks →
// group commit, where the writer thread also applies the alarm rules (ALM-8); the broker's
// callback (and with it the QoS 1 PUBACK) runs only once the reading and its alarm consequences
// are committed (ING-6). Bad input is counted and dropped, never thrown through the broker. A
// license never stops this path (LIC-4).
import type { Bus, ReadingEvent } from '../core/bus.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { StatusPayload, type UpPayload } from '../contract/device-payload.ts';
import type { DeviceLinkFigures } from '../contract/device.ts';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { DeviceCache } from '../devices/cache.ts';
import { QUEUE_FULL, type GroupCommitWriter } from '../storage/group-commit.ts';
import * as R from '../storage/reading-row.ts';
import type { PresenceTracker } from './presence.ts';
import {
  calibrate, decodeUpPayload, readingKeyTime, trackClock, trackSequence, DROP_REASONS,
  type ClockState, type DropReason, type SequenceState,
} from './steps.ts';

export interface IngestDeps {
  devices: DeviceCache;
  writer: GroupCommitWriter;
  presence: PresenceTracker;
  bus: Bus;
  clock: Clock;
  log: Logger;
  clockSkewMs: number;
  /** Pending serials are written at most this often each (ING-3). */
  pendingWriteEveryMs?: number;
}

export interface DeviceIngestStats extends SequenceState, ClockState {
  received: number;
  stored: number;
  duplicates: number;
  dropped: Partial<Record<DropReason, number>>;
  skewedReadings: number;
  lastServerTs: number;
  /** Recent (device ts, seq) of readings stored at server time: their resends are not key-equal (ING-4). */
  recentSkewed: Set<number>;
  /** Issue 15.6: the firmware version the device last reported (`ver`, DEV-2), null until one did. */
  firmware: string | null;
  /** Issue 15.6: device time − received time of the newest reading by sequence, ms (a backlog's resends do not count). */
  newestSkewMs: number | null;
}

/** Issue 15.6: the link figures of a device's counters (pure). */
export function linkFiguresOf(stats: DeviceIngestStats | undefined): DeviceLinkFigures {
  if (!stats) return { stored: 0, missing: 0, loss_pct: null, clock_skew_ms: null, firmware: null };
  const expected = stats.stored + stats.gaps;
  // ING-5's offsetMs is the device's lag behind the server; the figure shown is the device's lead.
  const skew = stats.offsetMs !== null ? -stats.offsetMs : stats.newestSkewMs;
  return {
    stored: stats.stored, missing: stats.gaps, loss_pct: expected === 0 ? null : Math.round((stats.gaps / expected) * 10_000) / 100,
    clock_skew_ms: skew, firmware: stats.firmware,
  };
}

const RECENT_SKEWED_KEEP = 512;
const identityOf = (reading: UpPayload) => reading.ts * 65_536 + reading.seq;

/** The writer's packed row (storage/reading-row.ts) for one calibrated reading and the setpoints it is judged by. */
function packReading(snId: number, seq: number, flags: number, r: ReadingEvent, limits: { high_limit: number | null; high2_limit: number | null; low_limit: number | null }) {
  return (rows: Float64Array, o: number) => {
    rows[o + R.F_SN_ID] = snId;
    rows[o + R.F_TS] = r.ts;
    rows[o + R.F_V_RAW] = r.vRaw;
    rows[o + R.F_PPM] = r.ppm;
    rows[o + R.F_TEMP] = r.temp;
    rows[o + R.F_HUMI] = r.humi ?? NaN;
    rows[o + R.F_BAT] = r.bat;
    rows[o + R.F_RSSI] = r.rssi;
    rows[o + R.F_SEQ] = seq;
    rows[o + R.F_ERR] = r.err;
    rows[o + R.F_FLAGS] = flags;
    rows[o + R.F_RECEIVED] = r.receivedAt;
    rows[o + R.F_HIGH] = R.limitOrNaN(limits.high_limit);
    rows[o + R.F_LOW] = R.limitOrNaN(limits.low_limit);
    rows[o + R.F_HIGH2] = R.limitOrNaN(limits.high2_limit);
  };
}

export type PublishDone = (error?: Error | null) => void;

const statusCheck = TypeCompiler.Compile(StatusPayload);

export function createIngest(deps: IngestDeps) {
  const { devices, writer, presence, bus, clock, clockSkewMs } = deps;
  const log = deps.log.child({ stage: 'ingest' });
  const pendingWriteEveryMs = deps.pendingWriteEveryMs ?? 10_000;
  const perDevice = new Map<string, DeviceIngestStats>();
  const pendingSeen = new Map<string, { lastWrite: number; messages: number }>();
  const totals = { received: 0, stored: 0, duplicates: 0, pending: 0, dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number> };
  let committed: ReadingEvent[] = [];

  function statsOf(sn: string): DeviceIngestStats {
    let stats = perDevice.get(sn);
    if (!stats) {
      stats = {
        received: 0, stored: 0, duplicates: 0, dropped: {}, skewedReadings: 0, lastServerTs: 0, recentSkewed: new Set(),
        lastSeq: null, gaps: 0, offsetMs: null, anchorReceivedAt: 0, anchorDeviceMs: 0, firmware: null, newestSkewMs: null,
      };
      perDevice.set(sn, stats);
    }
    return stats;
  }

  function drop(sn: string, reason: DropReason, detail?: string) {
    totals.dropped[reason]++;
    const stats = statsOf(sn);
    stats.dropped[reason] = (stats.dropped[reason] ?? 0) + 1;
    log.debug({ sn, reason, detail }, 'reading dropped');
  }

  function publishCommitted() {
    const batch = committed;
    committed = [];
    bus.emit('readings', batch);
  }

  function countDuplicate(stats: DeviceIngestStats) {
    stats.duplicates++;
    totals.duplicates++;
  }

  /**
   * ING-4 for a skewed clock: its readings are keyed by server time, so a resend does not meet its
   * first copy on the key; recent (device ts, seq) pairs catch it instead.
   */
  function isResendOfSkewed(stats: DeviceIngestStats, reading: UpPayload): boolean {
    const identity = identityOf(reading);
    if (stats.recentSkewed.has(identity)) {
      countDuplicate(stats);
      return true;
    }
    stats.recentSkewed.add(identity);
    if (stats.recentSkewed.size > RECENT_SKEWED_KEEP) stats.recentSkewed.delete(stats.recentSkewed.values().next().value!);
    stats.skewedReadings++;
    return false;
  }

  function onStored(stats: DeviceIngestStats, sequence: ReturnType<typeof trackSequence>, event: ReadingEvent) {
    stats.stored++;
    totals.stored++;
    if (sequence === 'old' && stats.gaps > 0) stats.gaps--; // a late reading filled a gap
    if (committed.length === 0) queueMicrotask(publishCommitted);
    committed.push(event);
  }

  function recordPending(sn: string, payload: Buffer, remote: string | null) {
    const now = clock.now();
    const seen = pendingSeen.get(sn) ?? { lastWrite: 0, messages: 0 };
    seen.messages++;
    pendingSeen.set(sn, seen);
    totals.pending++;
    if (now - seen.lastWrite < pendingWriteEveryMs) return;
    if (seen.lastWrite === 0) bus.emit('pending_device', { sn, ts: now });
    writer.enqueueUpdate({
      op: 'pending', sn, ts: now, messages: seen.messages, remote,
      payload: payload.length <= 1024 ? payload.toString('utf8') : null,
    });
    seen.lastWrite = now;
    seen.messages = 0;
  }

  return {
    totals,
    perDevice: perDevice as ReadonlyMap<string, DeviceIngestStats>,
    /** Issue 15.6: packet loss, clock skew and firmware of one device (the device page). */
    linkFigures: (sn: string): DeviceLinkFigures => linkFiguresOf(perDevice.get(sn)),

    /** A publish on `mcs/{sn}/up` by that device (the ACL has been checked). */
    handleUp(sn: string, payload: Buffer, qos: number, remote: string | null, done: PublishDone): void {
      const receivedAt = clock.now();
      totals.received++;
      const device = devices.get(sn);
      if (!device) {
        // ING-3: authenticated by the factory secret but not registered: listed, never stored.
        recordPending(sn, payload, remote);
        return done();
      }
      const stats = statsOf(sn);
      stats.received++;
      if (!device.enabled) {
        drop(sn, 'device_disabled');
        return done();
      }
      const decoded = decodeUpPayload(payload);
      if (!decoded.ok) {
        drop(sn, decoded.reason, decoded.detail);
        return done(); // acknowledged so the detector does not resend garbage forever
      }
      const reading = decoded.value;
      presence.seen(sn);
      const sequence = trackSequence(stats, reading.seq);
      if (reading.ver !== undefined) stats.firmware = reading.ver;
      if (sequence !== 'old' && sequence !== 'same') stats.newestSkewMs = reading.ts * 1000 - receivedAt;
      const skewed = trackClock(stats, reading.ts * 1000, receivedAt, clockSkewMs);
      if (skewed && isResendOfSkewed(stats, reading)) return done();
      const ts = readingKeyTime(reading.ts, reading.seq, skewed, receivedAt, stats.lastServerTs);
      if (skewed) stats.lastServerTs = ts;
      const { ppm, overrange } = calibrate(reading.v_raw, reading.temp, device.calib, device.range_max);
      const event: ReadingEvent = {
        sn, ts, receivedAt, ppm, vRaw: reading.v_raw, temp: reading.temp, humi: reading.humi ?? null,
        bat: reading.bat, rssi: reading.rssi, err: reading.err, overrange,
      };
      const row = packReading(device.sn_id, reading.seq, (overrange ? R.FLAG_OVERRANGE : 0) | (skewed ? R.FLAG_CLOCK_SKEW : 0), event, device);
      if (qos === 0) done();
      writer.enqueue(row, (error, inserted) => {
        if (error) {
          // Issue 16.8: a full queue refuses at once; counted apart from failed commits.
          drop(sn, (error as { code?: string }).code === QUEUE_FULL ? 'queue_full' : 'store_failed', error.message);
          if (skewed) stats.recentSkewed.delete(identityOf(reading)); // its resend is not a duplicate
          // Not acknowledged: the broker drops the connection and the detector resends later.
          if (qos > 0) done(error);
          return;
        }
        if (inserted) onStored(stats, sequence, event);
        else countDuplicate(stats);
        if (qos > 0) done();
      });
    },

    /**
     * A publish on `mcs/{sn}/status` — the retained online message or the Last Will (the broker
     * passes only the Will of the device's current connection, issue 16.3).
     */
    handleStatus(sn: string, payload: Buffer, isWill: boolean): void {
      if (!devices.get(sn)) return;
      // Issue 16.9: an empty payload is MQTT's way of clearing a retained message, not a status and
      // not a dropped reading; it says nothing about the device's presence either.
      if (payload.length === 0) return;
      let status: unknown;
      try {
        status = JSON.parse(payload.toString('utf8'));
      } catch {
        status = null;
      }
      if (!statusCheck.Check(status)) {
        drop(sn, 'wrong_type', 'status payload');
        return;
      }
      if (status.status === 'offline') presence.gone(sn, isWill ? 'will' : 'status_message');
      else presence.seen(sn, 'status_message');
      // Issue 15.5: an output module's relay states, its answer to a relay command (notify/linkage.ts waits for it).
      if (status.relay) bus.emit('output_state', { sn, relay: status.relay, at: clock.now() });
    },

    /** A device's connection closed (DISCONNECT, network loss, takeover by a newer connection). */
    handleDisconnect(sn: string): void {
      if (devices.get(sn)) presence.gone(sn, 'disconnect');
    },

    countAclViolation(sn: string): void {
      drop(sn, 'acl_violation');
    },

    /** Issue 16.1: a publish the broker refused unread, its packet over `mqtt.max_packet_bytes` (no PUBACK). */
    countTooLarge(sn: string, bytes: number): void {
      drop(sn, 'too_large', `${bytes}-byte packet refused by the broker`);
    },
  };
}
export type Ingest = ReturnType<typeof createIngest>;
