// ING-7: a device is online while it talks; offline `timeoutMs` after its last message, or at once
// on its Last Will or disconnect. Each transition is one event on the bus.
import type { Bus, DeviceStatusEvent } from '../core/bus.ts';
import type { Clock } from '../core/clock.ts';

export interface PresenceDeps {
  bus: Bus;
  clock: Clock;
  timeoutMs: number;
  /** How often the timeout is checked; the offline sweep job (OPS-2) may also call sweep(). */
  sweepEveryMs?: number;
}

interface Presence {
  online: boolean;
  lastSeen: number;
}

export function createPresence({ bus, clock, timeoutMs, sweepEveryMs = 5_000 }: PresenceDeps) {
  const devices = new Map<string, Presence>();
  let timer: NodeJS.Timeout | null = null;

  function transition(sn: string, entry: Presence, online: boolean, reason: DeviceStatusEvent['reason'], ts: number) {
    if (entry.online === online) return;
    entry.online = online;
    bus.emit('device_status', { sn, status: online ? 'online' : 'offline', ts, reason });
  }

  function entryOf(sn: string): Presence {
    let entry = devices.get(sn);
    if (!entry) {
      entry = { online: false, lastSeen: 0 };
      devices.set(sn, entry);
    }
    return entry;
  }

  return {
    /**
     * Restores what SQLite knew at start: last message times and who was online when the appliance
     * stopped. Those go offline through the normal timeout (with its event and OFFLINE alarm) unless
     * they talk again: a detector that died while the appliance was down must not go unnoticed.
     */
    restore(known: Iterable<[sn: string, lastSeen: number | null, wasOnline: boolean]>) {
      for (const [sn, lastSeen, wasOnline] of known) {
        devices.set(sn, { online: wasOnline, lastSeen: lastSeen ?? 0 });
      }
    },
    /** A message arrived from the device. */
    seen(sn: string, reason: 'reading' | 'status_message' = 'reading') {
      const now = clock.now();
      const entry = entryOf(sn);
      entry.lastSeen = Math.max(entry.lastSeen, now);
      transition(sn, entry, true, reason, now);
    },
    /** The device said goodbye (Last Will, status message) or its connection closed. */
    gone(sn: string, reason: 'will' | 'disconnect' | 'status_message') {
      transition(sn, entryOf(sn), false, reason, clock.now());
    },
    forget(sn: string) {
      devices.delete(sn);
    },
    /** Marks offline every device silent for longer than the timeout. */
    sweep(): number {
      const now = clock.now();
      let changed = 0;
      for (const [sn, entry] of devices) {
        if (entry.online && now - entry.lastSeen >= timeoutMs) {
          transition(sn, entry, false, 'timeout', now);
          changed++;
        }
      }
      return changed;
    },
    isOnline: (sn: string): boolean => devices.get(sn)?.online ?? false,
    lastSeen: (sn: string): number | null => devices.get(sn)?.lastSeen || null,
    counts() {
      let online = 0;
      for (const entry of devices.values()) if (entry.online) online++;
      return { online, offline: devices.size - online };
    },
    start() {
      timer = setInterval(() => this.sweep(), sweepEveryMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
export type PresenceTracker = ReturnType<typeof createPresence>;
