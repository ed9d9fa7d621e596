// Issue 15.2 (JJG 693-2011: a combustible-gas detector is verified periodically, at most a year
// apart): the calibrations and bump tests done on each detector, and each detector's intervals.
// Records are kept by serial, without a foreign key: a removed detector's history stays, as its
// readings do.
export const m012_calibration = {
  version: 12,
  name: 'calibration and bump-test records, intervals per device',
  sql: /* sql */ `
CREATE TABLE calibrations (
  id INTEGER PRIMARY KEY,
  sn TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('calibration', 'bump_test')),
  -- UTC ms when the work was done (may be earlier than when it was recorded)
  at INTEGER NOT NULL,
  by TEXT NOT NULL,
  test_gas TEXT,
  concentration REAL,
  as_found REAL,
  as_left REAL,
  passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
  -- the device's new calibration when it was changed (NULL: left as it was)
  new_k REAL,
  new_b REAL,
  comment TEXT,
  recorded_at INTEGER NOT NULL
);
CREATE INDEX calibrations_by_device ON calibrations (sn, kind, at);

-- NULL: the site default (config calibration.interval_days / bump_test_days).
-- bump_test_days 0: no bump test interval for this device.
CREATE TABLE calibration_intervals (
  sn TEXT PRIMARY KEY,
  calibration_days INTEGER CHECK (calibration_days IS NULL OR calibration_days >= 1),
  bump_test_days INTEGER CHECK (bump_test_days IS NULL OR bump_test_days >= 0),
  updated_at INTEGER NOT NULL
);

-- When this appliance began keeping calibration records (set once, by the calibration stage at its
-- first start, on the appliance's clock). A detector registered before it has no record here because
-- none could be kept: its interval counts from this moment, not from its registration, so an
-- upgrade does not raise CAL_OVERDUE on every detector older than a year at once.
CREATE TABLE calibration_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
`,
};
