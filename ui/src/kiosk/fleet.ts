// The kiosk's picture of the plant, rebuilt from each `snapshot` and patched by `realtime`,
// `device_status` and `alarm` messages (API-6). Plain mutable maps: with 500+ devices a second
// this avoids copying the fleet on every batch; the view re-renders from `version`.
import type { DeviceView } from '../../../appliance/contract/device.ts';
import type { AlarmView, LiveCounts, LiveDeviceInfo, ServerMessage } from '../../../appliance/contract/live.ts';
import { byPriority, isListed } from '../lib/alarm-order.ts';

export interface HistoryPoint {
  ts: string;
  ppm: number;
  min: number;
  max: number;
}

export class Fleet {
  devices = new Map<string, LiveDeviceInfo>();
  /** ALM-11: the listed records — active (acknowledged or not) and latched gas alarms not yet acknowledged. */
  alarms = new Map<number, AlarmView>();
  counts: LiveCounts = { total: 0, online: 0, offline: 0, alarm: 0 };
  /** server clock − browser clock, ms: staleness is judged on the server's time, not a kiosk PC's drifting one */
  clockOffsetMs = 0;
  history: { sn: string; points: HistoryPoint[] } | null = null;
  /** Serials in realtime batches that the last snapshot did not have (devices added since). */
  unknown = new Set<string>();
  version = 0;

  apply(message: ServerMessage): boolean {
    switch (message.type) {
      case 'snapshot':
        this.devices = new Map(message.data.devices.map((d) => [d.sn, d]));
        this.unknown.clear();
        this.alarms = new Map(message.data.alarms.filter(isListed).map((a) => [a.id, a]));
        this.counts = message.data.counts;
        this.syncClock(message.ts);
        break;
      case 'realtime':
        for (const entry of message.data) {
          const device = this.devices.get(entry.sn);
          if (!device) {
            this.unknown.add(entry.sn); // added after the snapshot: the kiosk fetches it (GET /api/devices/{sn})
            continue;
          }
          device.ppm = entry.ppm;
          device.status = entry.status;
          device.ts = entry.ts;
          device.online = entry.status !== 'offline';
        }
        this.counts = message.counts;
        this.syncClock(message.ts);
        break;
      case 'device_status':
        for (const change of message.data) {
          const device = this.devices.get(change.sn);
          if (!device) continue;
          device.online = change.status === 'online';
          if (!device.online) device.status = 'offline';
        }
        break;
      case 'alarm':
        if (isListed(message.data)) this.alarms.set(message.data.id, message.data);
        else this.alarms.delete(message.data.id);
        break;
      case 'history':
        this.history = { sn: message.sn, points: message.points };
        break;
      default:
        return false;
    }
    this.version++;
    return true;
  }

  /** A device the snapshot did not have, from its REST view. */
  addFromView(view: DeviceView) {
    this.unknown.delete(view.sn);
    if (this.devices.has(view.sn)) return;
    this.devices.set(view.sn, {
      sn: view.sn, kind: view.kind, name: view.name, location: view.location, gas: view.gas, unit: view.unit, pos_x: view.pos_x, pos_y: view.pos_y,
      high_limit: view.high_limit, high2_limit: view.high2_limit, low_limit: view.low_limit, ppm: view.last_ppm, ts: view.last_reading_at,
      status: view.state as LiveDeviceInfo['status'], online: view.status === 'online', alarms: view.alarms,
      temp: null, humi: null, bat: null, rssi: null, err: null,
    });
    this.version++;
  }

  private syncClock(serverTs: string) {
    const server = Date.parse(serverTs);
    if (Number.isFinite(server)) this.clockOffsetMs = server - Date.now();
  }

  serverNow(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** ALM-10: the listed records by priority, then the latest transition first. */
  alarmList(): AlarmView[] {
    return [...this.alarms.values()].sort(byPriority);
  }
}
