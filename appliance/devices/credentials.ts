// DEV-5 credentials. A generated device password has 144 random bits, so a salted SHA-256 is as
// safe as a slow hash and keeps a reconnect storm of thousands of detectors cheap; a password an
// admin chose may be weak and gets scrypt. Verification is constant-time either way.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1 };

export function generateDevicePassword(): string {
  return randomBytes(18).toString('base64url');
}

/** For a password from generateDevicePassword(). */
export function hashGeneratedPassword(password: string): string {
  const salt = randomBytes(16);
  return `sha256$${salt.toString('base64')}$${sha256(salt, password).toString('base64')}`;
}

/** For a password a person chose. */
export async function hashChosenPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts[0] === 'sha256' && parts.length === 3) {
    return safeEqual(sha256(Buffer.from(parts[1], 'base64'), password), Buffer.from(parts[2], 'base64'));
  }
  if (parts[0] === 'scrypt' && parts.length === 6) {
    const [, N, r, p, salt, hash] = parts;
    const expected = Buffer.from(hash, 'base64');
    const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
      N: Number(N), r: Number(r), p: Number(p),
    });
    return safeEqual(actual, expected);
  }
  return false;
}

export function safeEqualText(a: string, b: string): boolean {
  return safeEqual(Buffer.from(a), Buffer.from(b));
}

function sha256(salt: Buffer, password: string): Buffer {
  return createHash('sha256').update(salt).update(password).digest();
}

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
