// ALM-16 / UI-6 (issue 15.3): GET /api/devices/{sn}/exposure — a toxic-gas detector's rolling
// 15-minute (STEL) and 8-hour (TWA) averages against its GBZ 2.1-2019 limits, for the device page
// and the kiosk trend. How the averages are computed (time weighting, gaps): exposure/exposure.ts.
import { Type, type Static } from '@sinclair/typebox';

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const Iso = Type.String({ format: 'date-time' });

export const ExposureWindowView = Type.Object({
  start: Iso,
  end: Iso,
  window_min: Type.Integer({ description: '15 (STEL) or 480 (TWA)' }),
  average: Type.Union([Type.Number(), Type.Null()], { description: "the time-weighted average in the device's unit; null when the detector is not watched" }),
  average_mg_m3: Type.Union([Type.Number(), Type.Null()], { description: 'the same in mg/m³ at 20 °C, 101.3 kPa (GBZ 159), as the limits are given' }),
  limit: Type.Union([Type.Number(), Type.Null()], { description: "the limit (PC-STEL or PC-TWA) in the device's unit; null where GBZ 2.1-2019 gives none" }),
  limit_mg_m3: NullableNumber,
  coverage: Type.Number({ minimum: 0, maximum: 1, description: 'the share of the window measured; unmeasured time counts as zero (GBZ 159 fixed window)' }),
  over: Type.Boolean({ description: 'the alarm condition holds: above the limit (or within the deadband of a raised alarm)' }),
  alarm_active: Type.Boolean({ description: 'an EXPOSURE_STEL / EXPOSURE_TWA alarm is active for the detector' }),
});

export const ExposureView = Type.Object({
  sn: Type.String(),
  gas: Type.String(),
  unit: Type.String({ description: "the device's unit: average and limit are in it" }),
  watched: Type.Boolean({ description: 'a toxic gas with a PC-STEL or PC-TWA in a unit convertible to mg/m³; otherwise nothing is judged' }),
  limits: Type.Object(
    { pc_twa: NullableNumber, pc_stel: NullableNumber, mac: NullableNumber, unit: Type.Literal('mg/m3') },
    { description: 'GBZ 2.1-2019 occupational exposure limits; MAC (the ceiling) is judged by the level setpoints, not averaged' },
  ),
  stel: ExposureWindowView,
  twa: ExposureWindowView,
  at: Iso,
  resolution_s: Type.Integer({ description: 'the series the averages are computed from: per-minute averages (readings_1m, plus raw rows not yet rolled up)' }),
  max_hold_s: Type.Integer({ description: 'how long one value stands for without a newer one; beyond it time is unmeasured' }),
});
export type ExposureView = Static<typeof ExposureView>;
