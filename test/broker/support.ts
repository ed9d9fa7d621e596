// The device table the broker's tests authenticate and admit against: real SQLite in a temp dir,
// the device service that registers, re-keys and removes devices, and the device cache the broker
// reads, reloaded on every change as app.ts wires it.
import { manualClock } from '../../appliance/core/clock.ts';
import { createDeviceCache } from '../../appliance/devices/cache.ts';
import { createDeviceService } from '../../appliance/devices/service.ts';
import { dbFileIn, openDb } from '../../appliance/storage/db.ts';
import { createDeviceRepository } from '../../appliance/storage/devices.ts';
import { createPendingRepository } from '../../appliance/storage/pending.ts';
import { tempDir } from '../helpers/appliance.ts';

export function openDeviceTable() {
  const temp = tempDir();
  const db = openDb(dbFileIn(temp.dir));
  const devices = createDeviceRepository(db);
  const cache = createDeviceCache(devices);
  const service = createDeviceService({ devices, pending: createPendingRepository(db), clock: manualClock(), onChange: () => cache.reload() });
  cache.reload();
  return {
    cache, service,
    close() {
      db.close();
      temp.remove();
    },
  };
}
export type DeviceTable = ReturnType<typeof openDeviceTable>;
