// The packed reading rows the ingest stage hands the writer (storage/reading-row.ts), for the
// writer-core tests of the alarm lifecycle, masking and linkage.
import * as R from '../../appliance/storage/reading-row.ts';

export interface PackedRow {
  snId: number;
  /** The reading's time (F_TS); also its received time unless `receivedAt` is given. */
  ts: number;
  receivedAt?: number;
  seq: number;
  ppm: number;
  bat?: number;
  err?: number;
  overrange?: boolean;
  /** Setpoints as ingest attaches them; null = none. */
  high: number | null;
  high2: number | null;
  low?: number | null;
}

export function packRows(rows: PackedRow[]): Float64Array {
  const packed = new Float64Array(rows.length * R.ROW_FIELDS);
  rows.forEach((row, i) => {
    const o = i * R.ROW_FIELDS;
    packed[o + R.F_SN_ID] = row.snId;
    packed[o + R.F_TS] = row.ts;
    packed[o + R.F_PPM] = row.ppm;
    packed[o + R.F_V_RAW] = row.ppm;
    packed[o + R.F_TEMP] = 25;
    packed[o + R.F_HUMI] = NaN;
    packed[o + R.F_BAT] = row.bat ?? 90;
    packed[o + R.F_RSSI] = -70;
    packed[o + R.F_SEQ] = row.seq;
    packed[o + R.F_ERR] = row.err ?? 0;
    packed[o + R.F_FLAGS] = row.overrange ? R.FLAG_OVERRANGE : 0;
    packed[o + R.F_RECEIVED] = row.receivedAt ?? row.ts;
    packed[o + R.F_HIGH] = R.limitOrNaN(row.high);
    packed[o + R.F_LOW] = R.limitOrNaN(row.low ?? null);
    packed[o + R.F_HIGH2] = R.limitOrNaN(row.high2);
  });
  return packed;
}
