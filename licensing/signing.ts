// LIC-2 / LIC-3: Ed25519 signatures over a canonical JSON text (keys sorted, no spaces), so the
// vendor's CLI, the license server and the appliance sign and check exactly the same bytes.
// node:crypto only; no dependency.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON with object keys sorted at every level; the one text a signature covers. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('canonicalJson: non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

const SIGNATURE_RE = /^[A-Za-z0-9+/]{86}==$/;

/** Base64 Ed25519 signature (88 chars) of the canonical text of `value`. */
export function signJson(value: unknown, privateKey: KeyObject): string {
  return sign(null, Buffer.from(canonicalJson(value), 'utf8'), privateKey).toString('base64');
}

/**
 * Whether `signature` is the vendor's signature of `value`. Strict about the text of the signature
 * too: base64 is lenient when decoding, so a changed character could otherwise decode the same.
 */
export function verifyJson(value: unknown, signature: unknown, publicKey: KeyObject): boolean {
  if (typeof signature !== 'string' || !SIGNATURE_RE.test(signature)) return false;
  const bytes = Buffer.from(signature, 'base64');
  if (bytes.length !== 64 || bytes.toString('base64') !== signature) return false;
  let text: string;
  try {
    text = canonicalJson(value);
  } catch {
    return false;
  }
  try {
    return verify(null, Buffer.from(text, 'utf8'), publicKey, bytes);
  } catch {
    return false;
  }
}

export function generateVendorKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** An Ed25519 public key from PEM; throws with a plain message for anything else. */
export function publicKeyFromPem(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`not an Ed25519 public key (${key.asymmetricKeyType})`);
  return key;
}

export function privateKeyFromPem(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`not an Ed25519 private key (${key.asymmetricKeyType})`);
  return key;
}
