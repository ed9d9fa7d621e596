// STO-1: schema migrations, versioned by PRAGMA user_version and applied in order at start.
// Each migration is SQL embedded in the code (so the single binary carries it). Never edit a
// migration that has shipped; add the next one.
import { m001_init } from './001_init.ts';
import { m002_rollup_dirty } from './002_rollup_dirty.ts';
import { m003_latest_readings } from './003_latest_readings.ts';
import { m004_alarms } from './004_alarms.ts';
import { m005_users_audit } from './005_users_audit.ts';
import { m006_archive_jobs } from './006_archive_jobs.ts';
import { m007_alarm_ids } from './007_alarm_ids.ts';
import { m008_alarm_levels_journal } from './008_alarm_levels_journal.ts';
import { m009_device_gas } from './009_device_gas.ts';
import { m010_escalation } from './010_escalation.ts';
import { m011_masking } from './011_masking.ts';
import { m012_calibration } from './012_calibration.ts';
import { m013_device_kind } from './013_device_kind.ts';
import { m014_uplink } from './014_uplink.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * Rebuilds a table others refer to: foreign keys are switched off around the migration (they
   * cannot be switched inside a transaction) and checked before it commits.
   */
  foreignKeysOff?: boolean;
}

export const migrations: Migration[] = [m001_init, m002_rollup_dirty, m003_latest_readings, m004_alarms, m005_users_audit, m006_archive_jobs, m007_alarm_ids, m008_alarm_levels_journal, m009_device_gas, m010_escalation, m011_masking, m012_calibration, m013_device_kind, m014_uplink];
