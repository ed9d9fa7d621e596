// Issue 15.5 (GB 16808-2025 alarm control outputs): a registered device is either a gas detector or
// an output module (输出模块: the relay box that drives fans, valves and horns). An output module
// measures no gas: it has no setpoint, raises no gas alarm and is not "unprotected". Every device
// registered before this migration is a detector.
export const m013_device_kind = {
  version: 13,
  name: 'device kind: detector or output module',
  sql: /* sql */ `
ALTER TABLE devices ADD COLUMN kind TEXT NOT NULL DEFAULT 'detector' CHECK (kind IN ('detector', 'output'));
`,
};
