// SIM-3: latency histogram in one preallocated typed array, so recording tens of thousands of
// samples a second allocates nothing. Values are microseconds in log-linear buckets: exact
// below 1024 µs, then 512 buckets per power of two (under 0.2 % error), up to about 35 minutes.

const LINEAR = 1024;
const SUB_BITS = 9;
const SUB = 1 << SUB_BITS; // 512
const MAX_US = 2 ** 31 - 1;
const BUCKETS = LINEAR + (31 - 10) * SUB;

export interface Histogram {
  readonly count: number;
  readonly maxUs: number;
  record(us: number): void;
  /** The p-th percentile (0-100) in µs: the middle of the bucket holding it, 0 if empty. */
  percentileUs(p: number): number;
}

export function bucketOf(us: number): number {
  const v = us <= 0 ? 0 : us >= MAX_US ? MAX_US : Math.round(us);
  if (v < LINEAR) return v;
  const e = 31 - Math.clz32(v); // floor(log2 v), ≥ 10
  return LINEAR + (e - 10) * SUB + ((v >>> (e - SUB_BITS)) - SUB);
}

/** Lowest value of a bucket and its width. */
export function bucketRange(b: number): [number, number] {
  if (b < LINEAR) return [b, 1];
  const e = 10 + Math.floor((b - LINEAR) / SUB);
  const sub = ((b - LINEAR) % SUB) + SUB;
  const width = 2 ** (e - SUB_BITS);
  return [sub * width, width];
}

export function createHistogram(): Histogram {
  const counts = new Uint32Array(BUCKETS);
  let count = 0;
  let maxUs = 0;
  return {
    get count() {
      return count;
    },
    get maxUs() {
      return maxUs;
    },
    record(us) {
      counts[bucketOf(us)]++;
      count++;
      if (us > maxUs) maxUs = us;
    },
    percentileUs(p) {
      if (count === 0) return 0;
      const rank = Math.max(1, Math.ceil((p / 100) * count));
      let seen = 0;
      for (let b = 0; b < BUCKETS; b++) {
        seen += counts[b];
        if (seen >= rank) {
          const [low, width] = bucketRange(b);
          return Math.min(maxUs, low + (width - 1) / 2);
        }
      }
      return maxUs;
    },
  };
}
