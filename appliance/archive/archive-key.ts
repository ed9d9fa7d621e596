// ARC-1/ARC-3: where a site day's archive lives in the bucket (seed §5.3, `sensor_data_20251213.csv.gz`):
// `archive/YYYY/MM/sensor_data_YYYYMMDD.csv.gz`, and for readings of that day that arrived after it
// was archived, later parts `..._YYYYMMDD_2.csv.gz`. Both directions: the key an upload or a
// download uses, and the day and part a key found in the bucket names.

/** `archive/YYYY/MM/sensor_data_YYYYMMDD.csv.gz` (seed §5.3); later parts `..._YYYYMMDD_2.csv.gz`. */
export function archiveKey(day: string, part = 1): string {
  const [y, m, d] = day.split('-');
  return `archive/${y}/${m}/sensor_data_${y}${m}${d}${part > 1 ? `_${part}` : ''}.csv.gz`;
}

/** The day and part an archive object's key names, or null for a key that is not an archive's. */
export function parseArchiveKey(key: string): { day: string; part: number } | null {
  const match = /sensor_data_(\d{4})(\d{2})(\d{2})(?:_(\d+))?\.csv\.gz$/.exec(key);
  return match ? { day: `${match[1]}-${match[2]}-${match[3]}`, part: Number(match[4] ?? 1) } : null;
}
