// OPS-5: times are stored UTC; site days (archive days, ARC-1) and schedules use the site timezone.
// A site day is 'YYYY-MM-DD' and covers [start of that day, start of the next) in the zone.
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
    });
    formatters.set(timezone, f);
  }
  return f;
}

function wallClock(utcMs: number, timezone: string) {
  const parts = Object.fromEntries(formatterFor(timezone).formatToParts(utcMs).map((p) => [p.type, p.value]));
  return { y: Number(parts.year), m: Number(parts.month), d: Number(parts.day), h: Number(parts.hour), min: Number(parts.minute), s: Number(parts.second) };
}

/** The zone's offset from UTC at an instant, ms (UTC+8 → 8 h). */
export function zoneOffsetMs(utcMs: number, timezone: string): number {
  const w = wallClock(utcMs, timezone);
  const asUtc = Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s);
  return asUtc - (utcMs - (utcMs % 1000 + 1000) % 1000);
}

/** The site day an instant falls in. */
export function siteDayOf(utcMs: number, timezone: string): string {
  const w = wallClock(utcMs, timezone);
  return `${w.y}-${String(w.m).padStart(2, '0')}-${String(w.d).padStart(2, '0')}`;
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isSiteDay(text: string): boolean {
  const match = DAY_RE.exec(text);
  if (!match) return false;
  const [y, m, d] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** UTC ms of the first instant of a site day. */
export function siteDayStart(day: string, timezone: string): number {
  const match = DAY_RE.exec(day);
  if (!match) throw new Error(`not a day: '${day}' (expected YYYY-MM-DD)`);
  const [y, m, d] = match.slice(1).map(Number);
  const wallMidnight = Date.UTC(y, m - 1, d);
  // Two rounds settle the offset also across a DST change near midnight.
  let start = wallMidnight - zoneOffsetMs(wallMidnight, timezone);
  start = wallMidnight - zoneOffsetMs(start, timezone);
  return start;
}

/** The day after (calendar arithmetic, independent of DST). */
export function nextSiteDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d) + DAY_MS).toISOString().slice(0, 10);
}

/** [start, end) of a site day in UTC ms. */
export function siteDayRange(day: string, timezone: string): { start: number; end: number } {
  return { start: siteDayStart(day, timezone), end: siteDayStart(nextSiteDay(day), timezone) };
}
