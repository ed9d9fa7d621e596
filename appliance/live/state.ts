// The live picture of the fleet, kept in memory from the bus (STO-5 without a query per request):
// each device's newest committed reading, online state and active alarm types. The device list,
// the realtime endpoint and the kiosk WebSocket all read it.
import type { Bus, ReadingEvent } from '../core/bus.ts';
import { iso } from '../contract/api.ts';
import type { AlarmRecord } from '../contract/alarm.ts';
import type { DeviceState, LiveCounts, LiveDevice, LiveDeviceInfo } from '../contract/live.ts';
import type { Device } from '../storage/devices.ts';
import type { LatestReading } from '../storage/readings.ts';
import type { DeviceLinkFigures } from '../contract/device.ts';

const NO_LINK_FIGURES: DeviceLinkFigures = { stored: 0, missing: 0, loss_pct: null, clock_skew_ms: null, firmware: null };

/** UI-5 (GB 16808): gas alarms turn a marker red; a FAULT yellow; OFFLINE grey; LOW_BAT stays green. */
const GAS_TYPES = new Set(['HIGH', 'LOW']);

interface Latest {
  ts: number;
  /** when the appliance received it (issue 15.6: the device page's "last reading") */
  receivedAt: number;
  ppm: number;
  temp: number;
  humi: number | null;
  bat: number;
  rssi: number;
  err: number;
}

export interface LiveStateDeps {
  bus: Bus;
  latestAll: () => LatestReading[];
  devices: { get(sn: string): Device | undefined; all(): Iterable<Device> };
  isOnline: (sn: string) => boolean;
  activeAlarms: () => AlarmRecord[];
  /** ING-7: when the device last sent anything (presence, in memory); issue 15.6 */
  lastSeen?: (sn: string) => number | null;
  /** Issue 15.6: ingest's per-device counters (packet loss, clock skew, firmware) */
  linkFigures?: (sn: string) => DeviceLinkFigures;
}

/** Issue 15.6: what the device page shows beyond the newest values. */
export interface DeviceFigures extends DeviceLinkFigures {
  /** when the newest reading was received, UTC ms */
  lastReceivedAt: number | null;
  /** when the device last sent anything (a reading or a status message), UTC ms */
  lastSeen: number | null;
  /** Issue 15.5: an output module's relays as last reported (output_state), and when; null: none reported */
  relay: Record<string, boolean> | null;
  relayAt: number | null;
}

export function createLiveState(deps: LiveStateDeps) {
  const latest = new Map<string, Latest>();
  /** Issue 15.5: output modules' relay states from their status messages (they report them at every connect). */
  const relays = new Map<string, { relay: Record<string, boolean>; at: number }>();
  let unsubscribe: (() => void) | null = null;

  function alarmTypesBySn(): Map<string, string[]> {
    const bySn = new Map<string, string[]>();
    for (const alarm of deps.activeAlarms()) {
      if (alarm.sn === null) continue;
      bySn.set(alarm.sn, [...(bySn.get(alarm.sn) ?? []), alarm.type]);
    }
    return bySn;
  }

  function stateOf(sn: string, online: boolean, alarms: string[]): DeviceState {
    if (!online) return 'offline';
    if (alarms.some((type) => GAS_TYPES.has(type))) return 'alarm';
    if (alarms.includes('FAULT')) return 'fault';
    const device = deps.devices.get(sn);
    // ALM-9: a detector without any setpoint protects nobody: yellow, never a reassuring green.
    // Issue 15.5: an output module has no setpoint by nature; it is not an unprotected detector.
    if (device && device.kind !== 'output' && device.high_limit === null && device.low_limit === null) return 'unprotected';
    return 'ok';
  }

  function live(sn: string, alarms: string[]): LiveDevice {
    const last = latest.get(sn);
    const online = deps.isOnline(sn);
    const status = stateOf(sn, online, alarms);
    return {
      sn, ppm: last?.ppm ?? null, temp: last?.temp ?? null, humi: last?.humi ?? null, bat: last?.bat ?? null,
      rssi: last?.rssi ?? null, err: last?.err ?? null, ts: last ? iso(last.ts) : null, status, online, alarms,
    };
  }

  function info(device: Device, alarms: string[]): LiveDeviceInfo {
    return {
      ...live(device.sn, alarms), kind: device.kind, name: device.name, location: device.location, gas: device.gas, unit: device.unit,
      pos_x: device.pos_x, pos_y: device.pos_y, high_limit: device.high_limit, high2_limit: device.high2_limit, low_limit: device.low_limit,
    };
  }

  return {
    start() {
      for (const r of deps.latestAll()) latest.set(r.sn, { ...r, receivedAt: r.received_at });
      const onReadings = (readings: ReadingEvent[]) => {
        for (const r of readings) {
          const known = latest.get(r.sn);
          if (known && known.ts > r.ts) continue; // a late resend does not replace a newer value
          latest.set(r.sn, { ts: r.ts, receivedAt: r.receivedAt, ppm: r.ppm, temp: r.temp, humi: r.humi, bat: r.bat, rssi: r.rssi, err: r.err });
        }
      };
      const offReadings = deps.bus.on('readings', onReadings);
      const offOutputs = deps.bus.on('output_state', ({ sn, relay, at }) => void relays.set(sn, { relay: { ...relay }, at }));
      unsubscribe = () => (offReadings(), offOutputs());
    },
    stop() {
      unsubscribe?.();
    },
    /** Newest values and state of the given devices (all alarms looked up once). */
    devices(sns: Iterable<string>): LiveDevice[] {
      const alarms = alarmTypesBySn();
      return [...sns].map((sn) => live(sn, alarms.get(sn) ?? []));
    },
    device(sn: string): LiveDevice {
      return live(sn, alarmTypesBySn().get(sn) ?? []);
    },
    /** Every registered device with its settings for the floor plan (the kiosk snapshot). */
    fleet(): LiveDeviceInfo[] {
      const alarms = alarmTypesBySn();
      return [...deps.devices.all()].map((device) => info(device, alarms.get(device.sn) ?? []));
    },
    counts(): LiveCounts {
      const alarms = alarmTypesBySn();
      const counts = { total: 0, online: 0, offline: 0, alarm: 0 };
      for (const device of deps.devices.all()) {
        if (device.kind === 'output') continue; // issue 15.5: the kiosk counts detectors; output modules are not
        counts.total++;
        const { status, online } = live(device.sn, alarms.get(device.sn) ?? []);
        if (online) counts.online++;
        else counts.offline++;
        if (status === 'alarm') counts.alarm++;
      }
      return counts;
    },
    lastReadingAt: (sn: string): number | null => latest.get(sn)?.ts ?? null,
    /** Issue 15.6: the device page's figures: last reading received, last message, link counters. */
    figures(sn: string): DeviceFigures {
      const lastReceivedAt = latest.get(sn)?.receivedAt ?? null;
      const lastSeen = deps.lastSeen?.(sn) ?? null;
      const relay = relays.get(sn);
      return {
        ...(deps.linkFigures?.(sn) ?? NO_LINK_FIGURES), lastReceivedAt, lastSeen: lastSeen ?? lastReceivedAt,
        relay: relay ? { ...relay.relay } : null, relayAt: relay?.at ?? null,
      };
    },
    allSns: (): string[] => [...deps.devices.all()].map((device) => device.sn),
  };
}
export type LiveState = ReturnType<typeof createLiveState>;
