// An appliance process with more than the evaluation's 10 devices (licensing/dev-license.ts).
import { writeDevLicense } from '../../licensing/dev-license.ts';

/** Writes an offline development license into `dataDir`; returns the environment the appliance process needs. */
export function devLicenseEnv(dataDir: string, maxDevices: number): Record<string, string> {
  return writeDevLicense(dataDir, maxDevices).env;
}
