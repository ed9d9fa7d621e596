// ING-7: a device is online while it talks; offline `timeoutMs` after its last message, or on its
// Last Will or disconnect once a grace period has passed without it coming back (issue 15.4: a clean
// reboot is not an OFFLINE alarm). Each transition is one event on the bus.
import type { Bus, DeviceStatusEvent } from '../core/bus.ts';
import type { Clock } from '../core/clock.ts';
import type { DeviceCommand } from '../contract/device-payload.ts';

export interface PresenceDeps {
  bus: Bus;
  clock: Clock;
  timeoutMs: number;
  /**
   * Issue 15.4: how long a device that said goodbye (Last Will, offline status, dropped connection)
   * may stay away before it is offline; back within it, nothing is raised. 0 = offline at once.
   */
  graceMs?: number;
  /** Issue 15.4: after a `reboot` command the device may stay away this long, counted from the command. */
  rebootGraceMs?: number;
  /** How often the timeout and the grace are checked; the offline sweep job (OPS-2) may also call sweep(). */
  sweepEveryMs?: number;
}

type GoneReason = 'will' | 'disconnect' | 'status_message';

interface Presence {
  online: boolean;
  lastSeen: number;
  /** The device left while online: offline at `until` unless it talks before (issue 15.4). */
  away: { reason: GoneReason; until: number } | null;
  /** A reboot was commanded: a departure before this time may last until it. */
  rebootUntil: number;
}

export function createPresence({ bus, clock, timeoutMs, graceMs = 0, rebootGraceMs = graceMs, sweepEveryMs = 5_000 }: PresenceDeps) {
  const devices = new Map<string, Presence>();
  let timer: NodeJS.Timeout | null = null;

  function transition(sn: string, entry: Presence, online: boolean, reason: DeviceStatusEvent['reason'], ts: number) {
    entry.away = null;
    if (entry.online === online) return;
    entry.online = online;
    bus.emit('device_status', { sn, status: online ? 'online' : 'offline', ts, reason });
  }

  function entryOf(sn: string): Presence {
    let entry = devices.get(sn);
    if (!entry) {
      entry = { online: false, lastSeen: 0, away: null, rebootUntil: 0 };
      devices.set(sn, entry);
    }
    return entry;
  }

  /** The grace ran out with the device still away: offline now, for the reason it left. */
  function expireAway(sn: string, entry: Presence, now: number): boolean {
    if (!entry.away || now < entry.away.until) return false;
    transition(sn, entry, false, entry.away.reason, now);
    return true;
  }

  return {
    /**
     * Restores what SQLite knew at start: last message times and who was online when the appliance
     * stopped. Those go offline through the normal timeout (with its event and OFFLINE alarm) unless
     * they talk again: a detector that died while the appliance was down must not go unnoticed. A
     * device within its grace when the appliance stopped is still online in SQLite, so it is one of
     * these: its OFFLINE is not lost with the grace, which is not restored.
     */
    restore(known: Iterable<[sn: string, lastSeen: number | null, wasOnline: boolean]>) {
      for (const [sn, lastSeen, wasOnline] of known) {
        devices.set(sn, { online: wasOnline, lastSeen: lastSeen ?? 0, away: null, rebootUntil: 0 });
      }
    },
    /** A message arrived from the device. */
    seen(sn: string, reason: 'reading' | 'status_message' = 'reading') {
      const now = clock.now();
      const entry = entryOf(sn);
      // Back after its grace but before the sweep noticed: the OFFLINE it earned is still raised.
      expireAway(sn, entry, now);
      if (entry.away) entry.rebootUntil = 0; // back within the grace: a reboot extends one departure only
      entry.lastSeen = Math.max(entry.lastSeen, now);
      transition(sn, entry, true, reason, now);
    },
    /** The device said goodbye (Last Will, status message) or its connection closed. */
    gone(sn: string, reason: GoneReason) {
      const now = clock.now();
      const entry = entryOf(sn);
      if (!entry.online || entry.away) return; // already offline, or already counting its grace
      const until = Math.max(now + graceMs, entry.rebootUntil);
      if (until <= now) transition(sn, entry, false, reason, now);
      else entry.away = { reason, until };
    },
    /** Issue 15.4: a `reboot` command is on its way to the device; its coming departure gets the reboot grace. */
    rebootCommanded(sn: string) {
      entryOf(sn).rebootUntil = clock.now() + rebootGraceMs;
    },
    /** The reboot command did not reach the device: no extended grace. */
    rebootCancelled(sn: string) {
      const entry = devices.get(sn);
      if (entry) entry.rebootUntil = 0;
    },
    forget(sn: string) {
      devices.delete(sn);
    },
    /** Marks offline every device silent for longer than the timeout, or away beyond its grace. */
    sweep(): number {
      const now = clock.now();
      let changed = 0;
      for (const [sn, entry] of devices) {
        if (entry.away) {
          // The grace, not the timeout, decides for a device that left (the grace is bounded).
          if (expireAway(sn, entry, now)) changed++;
        } else if (entry.online && now - entry.lastSeen >= timeoutMs) {
          transition(sn, entry, false, 'timeout', now);
          changed++;
        }
      }
      return changed;
    },
    isOnline: (sn: string): boolean => devices.get(sn)?.online ?? false,
    /** Issue 15.4: when the grace of a device that left ends (null when it is not away). */
    awayUntil: (sn: string): number | null => devices.get(sn)?.away?.until ?? null,
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

export interface DeviceCommander {
  isConnected(sn: string): boolean;
  sendCommand(sn: string, command: DeviceCommand): Promise<void>;
}

/**
 * Issue 15.4: the command port the API uses, telling presence about a `reboot` before it goes out
 * (the device may drop its connection before the PUBACK arrives), and taking it back if it failed.
 */
export function withRebootGrace(commands: DeviceCommander, presence: Pick<PresenceTracker, 'rebootCommanded' | 'rebootCancelled'>): DeviceCommander {
  return {
    isConnected: (sn) => commands.isConnected(sn),
    async sendCommand(sn, command) {
      if (command.cmd !== 'reboot' || sn === '*') return commands.sendCommand(sn, command);
      presence.rebootCommanded(sn);
      try {
        await commands.sendCommand(sn, command);
      } catch (error) {
        presence.rebootCancelled(sn);
        throw error;
      }
    },
  };
}
