// OPS-5 / UI-3: the data-query chart's time axis in the site's timezone on a 24-hour clock (the
// plant's clock, not the PC's), with ticks on round local times (every 10 s … 1 day) rather than
// wherever a linear axis of epoch ms would put them. No date adapter: Intl does the zone work.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Round steps a person reads at a glance. */
const STEPS = [10 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY];

export interface SiteClock {
  /** The zone's offset from UTC at that instant, ms (UTC+8 → +28,800,000). */
  offsetAt(ms: number): number;
  /** Local wall-clock parts at that instant. */
  parts(ms: number): { month: string; day: string; hour: string; minute: string; second: string };
}

/** A clock for an IANA zone; an unknown or missing zone falls back to the browser's. */
export function siteClock(timezone: string | null | undefined): SiteClock {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone ?? undefined, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    });
  } catch {
    format = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  }
  const parts = (ms: number) => {
    const p = Object.fromEntries(format.formatToParts(ms).map((part) => [part.type, part.value]));
    return { year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute, second: p.second };
  };
  return {
    offsetAt(ms) {
      const p = parts(ms);
      const wall = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
      return wall - Math.floor(ms / SECOND) * SECOND;
    },
    parts,
  };
}

/** The round step that gives at most `maxTicks` ticks over the span. */
export function tickStep(spanMs: number, maxTicks = 8): number {
  return STEPS.find((step) => spanMs / step <= maxTicks) ?? Math.ceil(spanMs / maxTicks / DAY) * DAY;
}

/** Tick positions (UTC ms) on round local times of the site within [from, to]. */
export function timeTicks(from: number, to: number, clock: SiteClock, maxTicks = 8): number[] {
  const step = tickStep(to - from, maxTicks);
  const offset = clock.offsetAt(from); // a DST change inside the span shifts later ticks by its hour: still readable
  const ticks: number[] = [];
  for (let local = Math.ceil((from + offset) / step) * step; local - offset <= to; local += step) ticks.push(local - offset);
  return ticks;
}

/** HH:mm:ss below a minute's step, HH:mm within a day, MM-DD HH:mm (or MM-DD at midnight) beyond. */
export function tickText(ms: number, spanMs: number, step: number, clock: SiteClock): string {
  const p = clock.parts(ms);
  const time = step < MINUTE ? `${p.hour}:${p.minute}:${p.second}` : `${p.hour}:${p.minute}`;
  if (spanMs <= DAY) return time;
  return p.hour === '00' && p.minute === '00' ? `${p.month}-${p.day}` : `${p.month}-${p.day} ${time}`;
}
