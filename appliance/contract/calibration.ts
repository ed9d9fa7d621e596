// Issue 15.2: calibration and bump-test records (JJG 693-2011 periodic verification, at most a
// year apart) as the API takes and shows them, and the due report. One schema per use: the
// route's validator, its documentation and the UI's types.
import { Type, type Static } from '@sinclair/typebox';

export const CALIBRATION_KINDS = ['calibration', 'bump_test'] as const;
export type CalibrationKind = (typeof CALIBRATION_KINDS)[number];

const Text = (maxLength: number) => Type.String({ maxLength });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const NullableText = Type.Union([Type.String(), Type.Null()]);
const Iso = Type.String({ format: 'date-time' });
const NullableIso = Type.Union([Iso, Type.Null()]);

export const CalibrationRecordInput = Type.Object(
  {
    kind: Type.Union(CALIBRATION_KINDS.map((k) => Type.Literal(k))),
    /** When the work was done; default now. Never in the future. */
    at: Type.Optional(Iso),
    test_gas: Type.Optional(Text(32)),
    concentration: Type.Optional(Type.Number({ minimum: 0, description: 'test gas concentration, in the device unit' })),
    as_found: Type.Optional(Type.Number({ description: 'reading on the test gas before adjustment' })),
    as_left: Type.Optional(Type.Number({ description: 'reading on the test gas after adjustment' })),
    passed: Type.Boolean(),
    k: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'new slope (calibration only): updates the device and sends it calib' })),
    b: Type.Optional(Type.Number({ description: 'new offset (calibration only)' })),
    comment: Type.Optional(Text(500)),
  },
  { additionalProperties: false },
);
export type CalibrationRecordInput = Static<typeof CalibrationRecordInput>;

export const CalibrationRecordView = Type.Object({
  id: Type.Integer(),
  sn: Type.String(),
  kind: Type.Union(CALIBRATION_KINDS.map((k) => Type.Literal(k))),
  at: Iso,
  by: Type.String(),
  test_gas: NullableText,
  concentration: NullableNumber,
  as_found: NullableNumber,
  as_left: NullableNumber,
  passed: Type.Boolean(),
  new_k: NullableNumber,
  new_b: NullableNumber,
  comment: NullableText,
});
export type CalibrationRecordView = Static<typeof CalibrationRecordView>;

/** ok: not yet within the lead time; due: within it (CAL_DUE); overdue: past the due date. */
export const DUE_STATES = ['ok', 'due', 'overdue'] as const;
export type DueState = (typeof DUE_STATES)[number];
const DueStateSchema = Type.Union(DUE_STATES.map((s) => Type.Literal(s)));

export const IntervalsInput = Type.Object(
  {
    calibration_days: Type.Union([Type.Integer({ minimum: 1, maximum: 3650 }), Type.Null()], { description: 'null: the site default' }),
    bump_test_days: Type.Union([Type.Integer({ minimum: 0, maximum: 3650 }), Type.Null()], { description: 'null: the site default; 0: none' }),
  },
  { additionalProperties: false },
);
export type IntervalsInput = Static<typeof IntervalsInput>;

export const DueRowView = Type.Object({
  sn: Type.String(),
  name: Type.String(),
  location: Type.String(),
  calibration_days: Type.Integer(),
  last_calibration_at: NullableIso,
  calibration_due_at: Iso,
  calibration_state: DueStateSchema,
  /** 0: no bump-test interval. */
  bump_test_days: Type.Integer(),
  last_bump_test_at: NullableIso,
  bump_test_due_at: NullableIso,
  bump_test_state: Type.Union([DueStateSchema, Type.Null()]),
});
export type DueRowView = Static<typeof DueRowView>;

export const DeviceCalibrationView = Type.Object({
  due: DueRowView,
  intervals: IntervalsInput,
  records: Type.Array(CalibrationRecordView),
});

export const RecordedView = Type.Object({
  record: CalibrationRecordView,
  due: DueRowView,
  /** sent: the new k/b went to the device as `calib`; offline: stored, the device gets it when changed again; null: no k/b change. */
  command: Type.Union([Type.Literal('sent'), Type.Literal('offline'), Type.Null()]),
});
