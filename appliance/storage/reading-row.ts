// The packed form of a reading on its way to the group-commit writer: a run of Float64 slots per
// reading in one transferable buffer, so a batch crosses to the writer thread without copying.
export const F_SN_ID = 0;
export const F_TS = 1;
export const F_V_RAW = 2;
export const F_PPM = 3;
export const F_TEMP = 4;
export const F_HUMI = 5; // NaN when the device sent none
export const F_BAT = 6;
export const F_RSSI = 7;
export const F_SEQ = 8;
export const F_ERR = 9;
export const F_FLAGS = 10;
export const F_RECEIVED = 11;
// ALM-8: the device's setpoints when the reading was calibrated, so the writer thread judges the
// reading by the settings it was ingested with (NaN: no setpoint).
export const F_HIGH = 12;
export const F_LOW = 13;
export const F_HIGH2 = 14;
export const ROW_FIELDS = 15;

export const FLAG_OVERRANGE = 1;
export const FLAG_CLOCK_SKEW = 2;

/** Values kept with 0.01 resolution as integers (see migrations/001_init.ts). */
export const VALUE_SCALE = 100;
export const toScaled = (value: number) => Math.round(value * VALUE_SCALE);
export const fromScaled = (value: number) => value / VALUE_SCALE;

export const limitOrNaN = (limit: number | null) => limit ?? NaN;
export const limitOrNull = (slot: number) => (Number.isNaN(slot) ? null : slot);
