// DEV-5 / DEV-6: who may connect. Credentials come from the device table (through the cache);
// a serial that is not registered may connect only with its factory-derived password, and then
// only to be listed as pending (ING-3). Failed logins are throttled per client address and user
// name, like API-3's logins, when app.ts gives a throttle: the `admin` user has a person's password.
import { createHash } from 'node:crypto';
import { derivedDevicePassword } from '../contract/credentials.ts';
import { snFromUsername } from '../contract/topics.ts';
import { safeEqualText, verifyPassword } from '../core/device-credentials.ts';
import type { DeviceCache } from '../devices/cache.ts';
import type { Session } from './acl.ts';

/**
 * Why a CONNECT was refused; 'license': more devices than the license allows (LIC-5, 20003);
 * 'throttled': too many failed logins from this address or as this user name, refused unchecked.
 */
export type Refusal = 'bad_username' | 'bad_password' | 'unknown_device' | 'disabled' | 'empty_client_id' | 'license' | 'throttled';

/**
 * MQTT 3.1.1 CONNACK return codes. A throttled CONNECT gets 'server unavailable' (3): a detector
 * caught behind a blocked address retries later instead of taking it for a wrong password.
 */
export const CONNACK = { IDENTIFIER_REJECTED: 2, SERVER_UNAVAILABLE: 3, BAD_USERNAME_OR_PASSWORD: 4, NOT_AUTHORIZED: 5 } as const;

export type AuthResult = { ok: true; session: Session } | { ok: false; refusal: Refusal; returnCode: number };

/** The failed-login throttle (the sliding window of users/login-limiter.ts, given by app.ts). */
export interface LoginThrottle {
  /** Counts the attempt as failed now, or refuses it while the address or name is over its limit. */
  reserve(address: string | null, username: string): { ok: true; succeeded(): void; failed(): void } | { ok: false; retryAfterMs: number };
  failed(address: string | null, username: string): void;
  succeeded(username: string): void;
}

export interface AuthenticatorDeps {
  devices: DeviceCache;
  factorySecret: string;
  adminPassword: string;
  /** Failed CONNECTs per client address and user name (API-3's rule for people, applied to MQTT); none: unlimited. */
  loginThrottle?: LoginThrottle;
}

export function createAuthenticator({ devices, factorySecret, adminPassword, loginThrottle }: AuthenticatorDeps) {
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

  /** The password check itself, unthrottled. */
  async function check(username: string | undefined, password: string): Promise<AuthResult> {
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
  }

  const deviceOf = (username: string | undefined) => {
    const sn = username === 'admin' ? null : snFromUsername(username);
    return sn ? devices.get(sn) : undefined;
  };

  /**
   * A registered, enabled detector whose credential nobody can guess: a generated password (≈149
   * random bits, checked with one SHA-256) or the factory-derived one (64 bits). Its CONNECT is
   * checked even while its address or name is blocked, and its failures still count against both:
   * otherwise anyone who reads a serial off a detector, or one misconfigured detector behind the
   * same NAT address, could keep real detectors of a gas alarm system off the broker.
   */
  const unguessable = (device: ReturnType<typeof deviceOf>): boolean =>
    !!device?.enabled && (device.password_hash ? device.password_hash.startsWith('sha256$') : factorySecret !== '');

  /** `address`: the client's, for the per-address limit (null: only the user name is limited). */
  return async function authenticate(username: string | undefined, passwordBuffer: Buffer | undefined, address: string | null = null): Promise<AuthResult> {
    const password = passwordBuffer?.toString('utf8') ?? '';
    const device = deviceOf(username);
    // A disabled device is refused before anything is counted: no password is checked, none guessed.
    if (!loginThrottle || device?.enabled === false) return check(username, password);
    const name = username ?? '';
    if (unguessable(device)) {
      const result = await check(username, password);
      if (result.ok) loginThrottle.succeeded(name);
      else loginThrottle.failed(address, name);
      return result;
    }
    // API-3's rule: counted before the check, so concurrent CONNECTs cannot check more passwords than the limit.
    const attempt = loginThrottle.reserve(address, name);
    if (!attempt.ok) return refuse('throttled', CONNACK.SERVER_UNAVAILABLE);
    const result = await check(username, password);
    if (result.ok) attempt.succeeded();
    else attempt.failed();
    return result;
  };
}
