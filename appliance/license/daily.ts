// When "03:00 site time" next comes (LIC-3, OPS-2), in UTC ms, daylight-saving changes included.
// The job scheduler takes this over when it lands; until then the guard sets a timer with it.

/** Offset of `timezone` from UTC at `at`, ms (UTC+8 → +28 800 000). */
function offsetAt(at: number, timezone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23',
  }).formatToParts(at);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return asUtc - Math.floor(at / 1000) * 1000;
}

function localDate(at: number, timezone: string): [number, number, number] {
  const local = new Date(at + offsetAt(at, timezone));
  return [local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()];
}

/** The first moment after `now` whose site-local time is `hhmm`. */
export function nextDailyAt(now: number, hhmm: string, timezone: string): number {
  const [hour, minute] = hhmm.split(':').map(Number);
  const [y, m, d] = localDate(now, timezone);
  for (let day = 0; day <= 2; day++) {
    const wall = Date.UTC(y, m, d + day, hour, minute);
    let at = wall - offsetAt(wall, timezone);
    at = wall - offsetAt(at, timezone); // once more across a DST change
    if (at > now) return at;
  }
  return now + 24 * 3_600_000;
}
