// Password hashing for secrets people choose (admin UI users API-3, chosen device passwords
// DEV-5): scrypt with a random salt, parameters stored with the hash; constant-time comparison.
import { randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1 };

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Verifies a `scrypt$…` hash; false for any other format. */
export async function verifyScrypt(stored: string, password: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts[0] !== 'scrypt' || parts.length !== 6) return false;
  const [, N, r, p, salt, hash] = parts;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(N), r: Number(r), p: Number(p) });
  return safeEqual(actual, expected);
}

export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A random password for a first admin or a reset: 16 characters, easy to type from a log line. */
/**
 * Letters and digits only: passwords shown once are typed into firmware tools and shells, where a
 * leading '-' is taken for an option (`--password '-iA…'`), and a '-' also ends a double-click
 * selection (issue 16.10).
 */
const READABLE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` characters of READABLE_ALPHABET, log2(62) ≈ 5.95 bits each; randomInt draws without modulo bias. */
export function randomReadable(length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += READABLE_ALPHABET[randomInt(READABLE_ALPHABET.length)];
  return text;
}

/** The first admin's one-time password: 17 characters ≈ 101 bits (the 12 random bytes before were 96). */
export function randomPassword(): string {
  return randomReadable(17);
}
