// DEV-5 / DEV-6: who may connect. Credentials come from the device table (through the cache);
// a serial that is not registered may connect only with its factory-derived password, and then
// only to be listed as pending (ING-3).
import { createHash } from 'node:crypto';
import { derivedDevicePassword } from '../contract/credentials.ts';
import { snFromUsername } from '../contract/topics.ts';
import { safeEqualText, verifyPassword } from '../devices/credentials.ts';
import type { DeviceCache } from '../devices/cache.ts';
import type { Session } from './acl.ts';

/** Why a CONNECT was refused; 'license': more devices than the license allows (LIC-5, 20003). */
export type Refusal = 'bad_username' | 'bad_password' | 'unknown_device' | 'disabled' | 'empty_client_id' | 'license';

/** MQTT 3.1.1 CONNACK return codes. */
export const CONNACK = { IDENTIFIER_REJECTED: 2, BAD_USERNAME_OR_PASSWORD: 4, NOT_AUTHORIZED: 5 } as const;

export type AuthResult = { ok: true; session: Session } | { ok: false; refusal: Refusal; returnCode: number };

export interface AuthenticatorDeps {
  devices: DeviceCache;
  factorySecret: string;
  adminPassword: string;
}

export function createAuthenticator({ devices, factorySecret, adminPassword }: AuthenticatorDeps) {
  // Successful checks of slow (scrypt) hashes, so a reconnect costs one SHA-256: sn → [stored hash, digest].
  const verified = new Map<string, [string, string]>();
  const digest = (password: string) => createHash('sha256').update(password).digest('hex');

  async function passwordMatches(sn: string, storedHash: string, password: string): Promise<boolean> {
    const remembered = verified.get(sn);
    if (remembered && remembered[0] === storedHash) return safeEqualText(remembered[1], digest(password));
    const ok = await verifyPassword(storedHash, password);
    if (ok) verified.set(sn, [storedHash, digest(password)]);
    return ok;
  }

  const refuse = (refusal: Refusal, returnCode: number): AuthResult => ({ ok: false, refusal, returnCode });

  return async function authenticate(username: string | undefined, passwordBuffer: Buffer | undefined): Promise<AuthResult> {
    const password = passwordBuffer?.toString('utf8') ?? '';
    if (username === 'admin') {
      if (adminPassword && safeEqualText(password, adminPassword)) return { ok: true, session: { role: 'admin' } };
      return refuse('bad_password', CONNACK.BAD_USERNAME_OR_PASSWORD);
    }
    const sn = snFromUsername(username);
    if (!sn) return refuse('bad_username', CONNACK.BAD_USERNAME_OR_PASSWORD);
    const device = devices.get(sn);
    const derivedOk = () => factorySecret !== '' && safeEqualText(password, derivedDevicePassword(sn, factorySecret));
    if (!device) {
      return derivedOk()
        ? { ok: true, session: { role: 'pending', sn } }
        : refuse('unknown_device', CONNACK.NOT_AUTHORIZED);
    }
    if (!device.enabled) return refuse('disabled', CONNACK.NOT_AUTHORIZED);
    const ok = device.password_hash ? await passwordMatches(sn, device.password_hash, password) : derivedOk();
    return ok ? { ok: true, session: { role: 'device', sn } } : refuse('bad_password', CONNACK.BAD_USERNAME_OR_PASSWORD);
  };
}
