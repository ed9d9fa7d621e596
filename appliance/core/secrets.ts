// API-7: sensitive settings (SMTP password, SMS secret, webhook secret, S3 keys) are encrypted at
// rest with AES-256-GCM under a key file in the data dir, and never returned in clear by the API.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const SECRET_KEY_FILE = 'secret.key';
/** What the API shows instead of a secret that is set. */
export const REDACTED = '******';

const PREFIX = 'enc:v1:';
const KEY_BYTES = 32;
const IV_BYTES = 12; // the GCM standard nonce size; a fresh random one for every value
const TAG_BYTES = 16;
const B64 = '[A-Za-z0-9+/]*={0,2}';
const SEALED = new RegExp(`^enc:v1:(${B64}):(${B64}):(${B64})$`);

export interface SecretBox {
  /** Seals a text: `enc:v1:<iv b64>:<tag b64>:<ciphertext b64>`. */
  encrypt(text: string): string;
  /** Opens a sealed text; throws when it is not sealed, was tampered with or sealed under another key. */
  decrypt(sealed: string): string;
  /** True for a value in the sealed format (says nothing about which key sealed it). */
  isSealed(value: unknown): value is string;
}

/**
 * The key is read (or created, mode 0600) on first use, not here: a factory does no I/O.
 * Several boxes on the same data dir share the same key file.
 */
export function createSecretBox(dataDir: string): SecretBox {
  const keyFile = path.join(dataDir, SECRET_KEY_FILE);
  let key: Buffer | undefined;
  const getKey = () => (key ??= loadOrCreateKey(keyFile));

  return {
    encrypt(text) {
      if (typeof text !== 'string') throw new TypeError('secret box: only strings can be sealed');
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', getKey(), iv);
      const ciphertext = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return `${PREFIX}${iv.toString('base64')}:${tag.toString('base64')}:${ciphertext.toString('base64')}`;
    },
    decrypt(sealed) {
      const match = typeof sealed === 'string' ? SEALED.exec(sealed) : null;
      if (!match) throw new Error(`secret box: not a sealed value (expected ${PREFIX}<iv>:<tag>:<ciphertext>)`);
      const [iv, tag, ciphertext] = match.slice(1).map((part) => Buffer.from(part, 'base64'));
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
        throw new Error('secret box: sealed value is damaged (wrong IV or tag length)');
      }
      const decipher = createDecipheriv('aes-256-gcm', getKey(), iv);
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
      } catch {
        throw new Error(`secret box: sealed value failed authentication (tampered, or sealed under another ${keyFile})`);
      }
    },
    isSealed(value): value is string {
      return typeof value === 'string' && SEALED.test(value);
    },
  };
}

function loadOrCreateKey(keyFile: string): Buffer {
  try {
    return checkKey(fs.readFileSync(keyFile), keyFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(path.dirname(keyFile), { recursive: true });
  const fresh = randomBytes(KEY_BYTES);
  try {
    // 'wx': never overwrite a key another process created meanwhile — its secrets would be lost.
    fs.writeFileSync(keyFile, fresh, { mode: 0o600, flag: 'wx' });
    return fresh;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return checkKey(fs.readFileSync(keyFile), keyFile);
  }
}

function checkKey(key: Buffer, keyFile: string): Buffer {
  if (key.length !== KEY_BYTES) {
    throw new Error(
      `secret box: ${keyFile} holds ${key.length} bytes, an AES-256 key is ${KEY_BYTES}; ` +
        'restore the original key file (the sealed settings cannot be opened without it)',
    );
  }
  return key;
}

/**
 * API-7: a copy of `settings` for API output — each secret field that is set becomes `"******"`,
 * an unset one (missing, null or '') becomes null, so the UI can tell "set" from "not set".
 */
export function redact<T extends object>(settings: T, secretFields: readonly string[]): T {
  const copy = { ...settings } as Record<string, unknown>;
  for (const field of secretFields) {
    const value = copy[field];
    copy[field] = value === undefined || value === null || value === '' ? null : REDACTED;
  }
  return copy as T;
}

/**
 * For an update coming back from the UI: a secret field still holding `"******"` (or absent)
 * keeps the stored value; any other value replaces it.
 */
export function keepRedactedSecrets<T extends object>(incoming: T, stored: object, secretFields: readonly string[]): T {
  const copy = { ...incoming } as Record<string, unknown>;
  const previous = stored as Record<string, unknown>;
  for (const field of secretFields) {
    if (copy[field] === REDACTED || (copy[field] === undefined && previous[field] !== undefined)) {
      copy[field] = previous[field];
    }
  }
  return copy as T;
}

/** Seals the secret fields of a settings object for storage (already sealed values stay). */
export function sealSecrets<T extends object>(box: SecretBox, settings: T, secretFields: readonly string[]): T {
  return mapSecrets(settings, secretFields, (value) => (box.isSealed(value) ? value : box.encrypt(value)));
}

/** Opens the sealed secret fields of a stored settings object. */
export function openSecrets<T extends object>(box: SecretBox, settings: T, secretFields: readonly string[]): T {
  return mapSecrets(settings, secretFields, (value) => (box.isSealed(value) ? box.decrypt(value) : value));
}

function mapSecrets<T extends object>(settings: T, fields: readonly string[], map: (value: string) => string): T {
  const copy = { ...settings } as Record<string, unknown>;
  for (const field of fields) {
    const value = copy[field];
    if (typeof value === 'string' && value !== '') copy[field] = map(value);
  }
  return copy as T;
}
