// Issue 15.1 masking on the main thread: the operator's requests go to the writer thread (where
// the alarm decisions they change are made, in the readings' transactions); this keeps the open
// masks for the views (kiosk markers, admin list) and ends expired ones. Correctness needs no timer
// — the writer judges `until` against each batch's time — the expiry job only ends the masks and
// queues, in one transaction, what they held back from alarms still standing.
import type { AlarmEvent } from '../contract/alarm.ts';
import { DEFAULT_MASKING_SETTINGS, MASKING_CONFIG_KEY, type MaskingSettings, type OpenMask } from '../contract/masking.ts';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { ConfigRepository } from '../storage/config.ts';

export interface MaskServiceDeps {
  writer: {
    mask(sns: string[], reason: string, by: string, at: number, until: number): Promise<OpenMask[]>;
    unmask(sns: string[] | null, by: string, at: number): Promise<OpenMask[]>;
  };
  /** The open masks as stored (at start). */
  loadOpen: () => OpenMask[];
  config: ConfigRepository;
  clock: Clock;
  log: Logger;
  /** Told after masks began or ended (the kiosk gets a fresh snapshot). */
  onChange?: () => void;
  /** How often expired masks are ended (default 1 s). */
  expireEveryMs?: number;
}

export function createMaskService(deps: MaskServiceDeps) {
  const { clock } = deps;
  const log = deps.log.child({ stage: 'masks' });
  const open = new Map<string, OpenMask>();
  let timer: NodeJS.Timeout | null = null;
  let expiring = false;

  const settings = (): MaskingSettings => ({ ...DEFAULT_MASKING_SETTINGS, ...(deps.config.get<Partial<MaskingSettings>>(MASKING_CONFIG_KEY) ?? {}) });

  function changed() {
    try {
      deps.onChange?.();
    } catch (err) {
      log.error({ err }, 'a mask listener failed');
    }
  }

  /** Ends the masks past their time; what they held back from standing alarms is queued. */
  async function expire(): Promise<OpenMask[]> {
    const now = clock.now();
    if (![...open.values()].some((mask) => mask.until <= now)) return [];
    const ended = await deps.writer.unmask(null, 'expiry', now);
    for (const mask of ended) if (open.get(mask.sn)?.id === mask.id) open.delete(mask.sn);
    if (ended.length) {
      log.info({ sns: ended.map((m) => m.sn) }, 'masks expired');
      changed();
    }
    return ended;
  }

  return {
    settings,
    saveSettings(next: MaskingSettings) {
      deps.config.set(MASKING_CONFIG_KEY, next, clock.now());
    },
    start() {
      for (const mask of deps.loadOpen()) open.set(mask.sn, mask);
      timer = setInterval(() => {
        if (expiring) return;
        expiring = true;
        // A failed expiry is said and tried again on the next tick (the writer already ignores the mask by its time).
        expire().catch((err) => log.error({ err }, 'ending expired masks failed')).finally(() => (expiring = false));
      }, deps.expireEveryMs ?? 1000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
    expire,
    /** Masks the detectors for `minutes` (default and maximum from the settings). */
    async mask(sns: string[], minutes: number | undefined, reason: string, by: string): Promise<OpenMask[]> {
      const { default_minutes: fallback, max_minutes: max } = settings();
      const length = minutes ?? fallback;
      if (length > max) {
        throw new AppError('REQUEST_INVALID', { minutes: length, max_minutes: max }, `a mask lasts at most ${max} minutes (masking.max_minutes) / 屏蔽时长最多 ${max} 分钟`);
      }
      const at = clock.now();
      const made = await deps.writer.mask(sns, reason.trim(), by, at, at + length * 60_000);
      for (const mask of made) open.set(mask.sn, mask);
      changed();
      return made;
    },
    /** Ends these detectors' masks by hand; the masks ended (a detector not masked is left). */
    async unmask(sns: string[], by: string): Promise<OpenMask[]> {
      const ended = await deps.writer.unmask(sns, by, clock.now());
      for (const mask of ended) if (open.get(mask.sn)?.id === mask.id) open.delete(mask.sn);
      if (ended.length) changed();
      return ended;
    },
    /** The masks in force now. */
    list: (): OpenMask[] => [...open.values()].filter((mask) => mask.until > clock.now()).sort((a, b) => a.sn.localeCompare(b.sn)),
    /** The mask of a detector in force now, if any. */
    of(sn: string): OpenMask | undefined {
      const mask = open.get(sn);
      return mask && mask.until > clock.now() ? mask : undefined;
    },
  };
}
export type MaskService = ReturnType<typeof createMaskService>;
