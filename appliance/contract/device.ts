// The device settings contract, shared by the CLI, the REST API and the UI.
import { Type, type Static } from '@sinclair/typebox';
import { SN_PATTERN } from './topics.ts';

const Finite = (options: object = {}) => Type.Number(options);

export const CalibrationInput = Type.Object(
  {
    k: Type.Optional(Finite({ description: 'slope, ppm per mV' })),
    b: Type.Optional(Finite({ description: 'offset, ppm' })),
    t_ref: Type.Optional(Finite({ minimum: -60, maximum: 150, description: 'reference temperature, °C' })),
    t_comp: Type.Optional(Finite({ description: 'temperature compensation, ppm per °C' })),
  },
  { additionalProperties: false },
);

const settingsFields = {
  name: Type.Optional(Type.String({ maxLength: 64 })),
  location: Type.Optional(Type.String({ maxLength: 128 })),
  pos_x: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()])),
  pos_y: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()])),
  gas: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  unit: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  calib: Type.Optional(CalibrationInput),
  range_max: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000_000 })),
  high_limit: Type.Optional(Type.Union([Type.Number({ minimum: 0 }), Type.Null()])),
  low_limit: Type.Optional(Type.Union([Type.Number({ minimum: 0 }), Type.Null()])),
  enabled: Type.Optional(Type.Boolean()),
};

export const DeviceCreate = Type.Object(
  {
    sn: Type.String({ pattern: SN_PATTERN, description: 'serial number as printed on the detector' }),
    ...settingsFields,
    /** 'generate' (default): a random password shown once; 'factory': the DEV-5 derived password. */
    credentials: Type.Optional(Type.Union([Type.Literal('generate'), Type.Literal('factory')])),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 128, description: 'set a chosen password' })),
  },
  { additionalProperties: false },
);
export type DeviceCreate = Static<typeof DeviceCreate>;

export const DeviceUpdate = Type.Object(settingsFields, { additionalProperties: false, minProperties: 1 });
export type DeviceUpdate = Static<typeof DeviceUpdate>;
