// DEV-5 credentials. A generated device password has ≈149 random bits, so a salted SHA-256 is as
// safe as a slow hash and keeps a reconnect storm of thousands of detectors cheap; a password an
// admin chose may be weak and gets scrypt. Verification is constant-time either way.
import { createHash, randomBytes } from 'node:crypto';
import { hashPassword, randomReadable, safeEqual, verifyScrypt } from './passwords.ts';

/** 25 × log2(62) ≈ 148.8 bits, no less than the 144 of the 18 random bytes used before; letters and digits only. */
export const GENERATED_PASSWORD_LENGTH = 25;

export function generateDevicePassword(): string {
  return randomReadable(GENERATED_PASSWORD_LENGTH);
}

/** For a password from generateDevicePassword(). */
export function hashGeneratedPassword(password: string): string {
  const salt = randomBytes(16);
  return `sha256$${salt.toString('base64')}$${sha256(salt, password).toString('base64')}`;
}

/** For a password a person chose. */
export const hashChosenPassword = hashPassword;

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts[0] === 'sha256' && parts.length === 3) {
    return safeEqual(sha256(Buffer.from(parts[1], 'base64'), password), Buffer.from(parts[2], 'base64'));
  }
  if (parts[0] === 'scrypt') return verifyScrypt(stored, password);
  return false;
}

export function safeEqualText(a: string, b: string): boolean {
  return safeEqual(Buffer.from(a), Buffer.from(b));
}

function sha256(salt: Buffer, password: string): Buffer {
  return createHash('sha256').update(salt).update(password).digest();
}

