// The devices as the hot path sees them: an in-memory map reloaded when any connection or process
// (the CLI, the API) changes a device's settings. One indexed read a second notices such changes.
import type { Device, DeviceRepository } from '../storage/devices.ts';

export const DEVICE_CACHE_POLL_MS = 1000;

export function createDeviceCache(repo: DeviceRepository, pollMs = DEVICE_CACHE_POLL_MS) {
  let bySn = new Map<string, Device>();
  let version = -1;
  let timer: NodeJS.Timeout | null = null;
  const listeners: ((devices: Map<string, Device>) => void)[] = [];

  function reload() {
    version = repo.changeVersion();
    bySn = new Map(repo.all().map((device) => [device.sn, device]));
    for (const listener of listeners) listener(bySn);
  }

  function reloadIfChanged() {
    if (repo.changeVersion() !== version) reload();
  }

  return {
    /**
     * A miss looks at the change version first: a device registered a moment ago by the CLI or
     * the API is known at once, not up to a poll later, so its first CONNECT and readings are not
     * taken for an unknown serial's (ING-3 pending) and acknowledged without being stored.
     */
    get(sn: string): Device | undefined {
      const device = bySn.get(sn);
      if (device || version < 0) return device;
      reloadIfChanged();
      return bySn.get(sn);
    },
    all: (): IterableIterator<Device> => bySn.values(),
    size: (): number => bySn.size,
    reload,
    reloadIfChanged,
    onReload(listener: (devices: Map<string, Device>) => void) {
      listeners.push(listener);
    },
    start() {
      reload();
      timer = setInterval(reloadIfChanged, pollMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
export type DeviceCache = ReturnType<typeof createDeviceCache>;
