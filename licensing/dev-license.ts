// Development, tests and benchmarks: an appliance with more devices than evaluation's 10, without
// the vendor's private key. Makes a throw-away key pair, writes an offline license for a fixed
// development machine id into the data dir, and returns what the appliance needs to accept it:
// the public key (createApp's licensePublicKeyPem) or, for a process, the environment
// (MCS_LICENSE_DEV_PUBLIC_KEY_FILE, honoured outside the packaged binary only, and the machine id).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signLicense } from './license-file.ts';
import { generateVendorKeyPair, privateKeyFromPem } from './signing.ts';

export const DEV_MACHINE_ID = 'de' + 'c0'.repeat(15);

export function writeDevLicense(dataDir: string, maxDevices: number): { publicPem: string; machineId: string; env: Record<string, string> } {
  const { privatePem, publicPem } = generateVendorKeyPair();
  const keyFile = join(dataDir, 'dev-vendor-public-key.pem');
  writeFileSync(keyFile, publicPem);
  const license = signLicense({
    license_key: 'MCS-DEVL-OPER-0001', customer: 'Development', max_devices: maxDevices, expire_date: '2099-12-31',
    machine_id: DEV_MACHINE_ID, features: ['offline'], issued_at: new Date().toISOString(),
  }, privateKeyFromPem(privatePem));
  writeFileSync(join(dataDir, 'license.key'), license);
  return { publicPem, machineId: DEV_MACHINE_ID, env: { MCS_LICENSE_DEV_PUBLIC_KEY_FILE: keyFile, MCS_LICENSE_MACHINE_ID: DEV_MACHINE_ID } };
}
