// API-7: sensitive settings (SMTP password, SMS secret, webhook secret, S3 keys — and, issue 16.6,
// the keys inside robot URLs and the webhook's header values) are encrypted at rest with
// AES-256-GCM under a key file in the data dir, and never returned in clear by the API.
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
 * Where a settings object keeps its secrets (API-7, issue 16.6). `secretFields` are sealed whole
 * and shown as "******". Some secrets live inside other values:
 * - `secretUrls`: URL fields whose key travels in the address itself (the WeCom `key=`, the
 *   DingTalk `access_token=`, a Feishu hook id, `user:password@`). The whole URL is sealed at rest
 *   (a secret the masking rules below miss is still never stored in clear); the API shows it with
 *   its secret parts masked, see maskUrl().
 * - `secretMaps`: name → value maps, the webhook's extra HTTP headers. EVERY value is treated as
 *   a secret (sealed, shown as "******"): a header's name says too little (Authorization,
 *   X-Api-Key, but also X-Gitlab-Token, apikey, Cookie, X-Hub-Signature…), and extra headers on a
 *   webhook are nearly always credentials. The names stay readable.
 */
export interface SecretLayout {
  secretFields: readonly string[];
  secretUrls?: readonly string[];
  secretMaps?: readonly string[];
}
/** A layout, or just the list of whole-value secret fields. */
export type SecretSpec = readonly string[] | SecretLayout;

/** The layout of a spec, every part present. */
export function secretLayout(spec: SecretSpec): Required<SecretLayout> {
  if (isFieldList(spec)) return { secretFields: spec, secretUrls: [], secretMaps: [] };
  return { secretFields: spec.secretFields, secretUrls: spec.secretUrls ?? [], secretMaps: spec.secretMaps ?? [] };
}
const isFieldList = (spec: SecretSpec): spec is readonly string[] => Array.isArray(spec);

/**
 * API-7: a copy of `settings` for API output — each secret field that is set becomes `"******"`,
 * an unset one (missing, null or '') becomes null, so the UI can tell "set" from "not set". A
 * secret URL keeps its non-secret parts readable (maskUrl); a sealed one is opened with `box` for
 * that, and shown as "******" whole when there is no box or it cannot be opened (wrong key file).
 * Each value of a secret map becomes "******".
 */
export function redact<T extends object>(settings: T, spec: SecretSpec, box?: SecretBox): T {
  const { secretFields, secretUrls, secretMaps } = secretLayout(spec);
  const copy = { ...settings } as Record<string, unknown>;
  for (const field of secretFields) {
    const value = copy[field];
    copy[field] = value === undefined || value === null || value === '' ? null : REDACTED;
  }
  for (const field of secretUrls) {
    const value = copy[field];
    if (typeof value === 'string' && value !== '') copy[field] = maskUrl(openForView(box, value));
  }
  for (const field of secretMaps) {
    const map = copy[field];
    if (isRecord(map)) copy[field] = mapValues(map, (value) => (value === '' ? value : REDACTED));
  }
  return copy as T;
}

function openForView(box: SecretBox | undefined, value: string): string {
  if (!value.startsWith(PREFIX)) return value; // in clear (stored by an older version, or not stored yet)
  if (!box) return REDACTED;
  try {
    return box.decrypt(value);
  } catch {
    return REDACTED; // the admin sees it is set and can type it again; sending notices reports the key problem
  }
}

/**
 * For an update coming back from the UI: a secret field still holding `"******"` (or absent)
 * keeps the stored value; any other value replaces it. In a secret URL each masked part is
 * filled from the stored URL (restoreMaskedUrl: only while scheme, host and port are the same);
 * in a secret map a "******" value keeps the stored value of the same header name. A map itself
 * is not kept when absent: leaving the headers out means no extra headers.
 */
export function keepRedactedSecrets<T extends object>(incoming: T, stored: object, spec: SecretSpec): T {
  const { secretFields, secretUrls, secretMaps } = secretLayout(spec);
  const copy = { ...incoming } as Record<string, unknown>;
  const previous = stored as Record<string, unknown>;
  for (const field of secretFields) {
    if (copy[field] === REDACTED || (copy[field] === undefined && previous[field] !== undefined)) {
      copy[field] = previous[field];
    }
  }
  for (const field of secretUrls) {
    const value = copy[field];
    const old = previous[field];
    if (typeof value === 'string' && typeof old === 'string') copy[field] = restoreMaskedUrl(value, old);
  }
  for (const field of secretMaps) {
    const map = copy[field];
    const old = previous[field];
    if (!isRecord(map) || !isRecord(old)) continue;
    copy[field] = Object.fromEntries(
      Object.entries(map).map(([name, value]) => [name, value === REDACTED ? (storedEntry(old, name) ?? value) : value]),
    );
  }
  return copy as T;
}

/** The stored value of a header name (HTTP field names are case-insensitive, RFC 9110 §5.1). */
function storedEntry(map: Record<string, unknown>, name: string): unknown {
  if (name in map) return map[name];
  const lower = name.toLowerCase();
  return Object.entries(map).find(([key]) => key.toLowerCase() === lower)?.[1];
}

/** Seals the secrets of a settings object for storage (already sealed values stay). */
export function sealSecrets<T extends object>(box: SecretBox, settings: T, spec: SecretSpec): T {
  return mapSecrets(settings, secretLayout(spec), (value) => (box.isSealed(value) ? value : box.encrypt(value)));
}

/** Opens the sealed secrets of a stored settings object (values in clear, from older versions, stay). */
export function openSecrets<T extends object>(box: SecretBox, settings: T, spec: SecretSpec): T {
  return mapSecrets(settings, secretLayout(spec), (value) => (box.isSealed(value) ? box.decrypt(value) : value));
}

function mapSecrets<T extends object>(settings: T, layout: Required<SecretLayout>, map: (value: string) => string): T {
  const copy = { ...settings } as Record<string, unknown>;
  for (const field of [...layout.secretFields, ...layout.secretUrls]) {
    const value = copy[field];
    if (typeof value === 'string' && value !== '') copy[field] = map(value);
  }
  for (const field of layout.secretMaps) {
    const entries = copy[field];
    if (isRecord(entries)) copy[field] = mapValues(entries, (value) => (typeof value === 'string' && value !== '' ? map(value) : value));
  }
  return copy as T;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const mapValues = (map: Record<string, unknown>, f: (value: unknown) => unknown) =>
  Object.fromEntries(Object.entries(map).map(([key, value]) => [key, f(value)]));

// ---- secrets inside URLs (issue 16.6) ----------------------------------------------------------
// The URL is handled as text split into its RFC 3986 components, not re-serialised through the
// WHATWG parser, so that everything but a masked part stays exactly as the admin wrote it.

/**
 * Query parameters whose value is a credential: the WeCom `key`, DingTalk `access_token`, signed
 * URLs (`sign`, `signature`, Azure's `sig` and `code`), `token`, `secret`, `password`, `auth`…
 * Generous on purpose: a parameter masked needlessly still works when sent back unchanged.
 */
const SECRET_PARAM = /key|token|secret|sign|^sig$|pass|pwd|auth|credential|session|ticket|^code$/i;
/**
 * A path segment that looks like a credential rather than a name: 16+ characters of letters,
 * digits, '-' and '_' with at least one letter and one digit — the Feishu hook id
 * (`/open-apis/bot/v2/hook/<uuid>`), Slack's and Discord's webhook tokens.
 */
const TOKEN_SEGMENT = /^(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16,}$/;

interface UrlText {
  scheme: string; // with '://'
  userinfo: string | null;
  host: string; // with ':port'
  path: string;
  query: string | null; // without '?'
  fragment: string; // with '#', or ''
}

const URL_TEXT = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)([^?#]*)(?:\?([^#]*))?(#.*)?$/s;

function splitUrl(text: string): UrlText | null {
  const match = URL_TEXT.exec(text);
  if (!match) return null;
  const authority = match[2];
  const at = authority.lastIndexOf('@'); // as the WHATWG parser does: the host follows the last '@'
  return {
    scheme: match[1],
    userinfo: at >= 0 ? authority.slice(0, at) : null,
    host: at >= 0 ? authority.slice(at + 1) : authority,
    path: match[3],
    query: match[4] ?? null,
    fragment: match[5] ?? '',
  };
}

function joinUrl(u: UrlText): string {
  return `${u.scheme}${u.userinfo === null ? '' : `${u.userinfo}@`}${u.host}${u.path}${u.query === null ? '' : `?${u.query}`}${u.fragment}`;
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** The query's `name=value` pairs as written; `value` null for a bare `name`. */
function queryPairs(query: string): { name: string; value: string | null }[] {
  return query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return eq < 0 ? { name: pair, value: null } : { name: pair.slice(0, eq), value: pair.slice(eq + 1) };
  });
}
const joinPairs = (pairs: { name: string; value: string | null }[]) =>
  pairs.map(({ name, value }) => (value === null ? name : `${name}=${value}`)).join('&');

const isSecretParam = (name: string, value: string | null) => value !== null && value !== '' && SECRET_PARAM.test(decodeComponent(name));

/**
 * The URL with its secret parts replaced by "******": the userinfo, secret query parameters
 * (SECRET_PARAM) and token-like path segments (TOKEN_SEGMENT), e.g.
 * `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=******`. Text that is not an absolute
 * URL is returned unchanged; masking a masked URL changes nothing.
 */
export function maskUrl(text: string): string {
  const url = splitUrl(text);
  if (!url) return text;
  if (url.userinfo !== null && url.userinfo !== '') url.userinfo = REDACTED;
  url.path = url.path
    .split('/')
    .map((segment) => (TOKEN_SEGMENT.test(segment) ? REDACTED : segment))
    .join('/');
  if (url.query) {
    url.query = joinPairs(queryPairs(url.query).map(({ name, value }) => ({ name, value: isSecretParam(name, value) ? REDACTED : value })));
  }
  return joinUrl(url);
}

/** True when some part of the URL is still the "******" placeholder. */
export function hasMaskedPart(text: string): boolean {
  const url = splitUrl(text);
  if (!url) return false;
  return (
    url.userinfo === REDACTED ||
    url.path.split('/').includes(REDACTED) ||
    (url.query !== null && queryPairs(url.query).some(({ value }) => value === REDACTED))
  );
}

/**
 * A URL sent back with masked parts: each "******" is filled from the stored URL — the userinfo,
 * the query parameter of the same name, the path segment at the same place (only when the path
 * has as many segments as before). Only while scheme, host and port are unchanged: a key is
 * never sent to an address the admin did not type it for (a masked key with a new host would
 * let anyone holding an admin session move the key to their own server). What cannot be filled
 * stays "******", and validation then asks for the whole address.
 */
export function restoreMaskedUrl(incoming: string, stored: string): string {
  if (!incoming.includes(REDACTED)) return incoming;
  const url = splitUrl(incoming);
  const old = splitUrl(stored);
  if (!url || !old) return incoming;
  if (url.scheme.toLowerCase() !== old.scheme.toLowerCase() || url.host.toLowerCase() !== old.host.toLowerCase()) return incoming;
  if (url.userinfo === REDACTED && old.userinfo !== null) url.userinfo = old.userinfo;
  const segments = url.path.split('/');
  const oldSegments = old.path.split('/');
  if (segments.length === oldSegments.length) url.path = segments.map((s, i) => (s === REDACTED ? oldSegments[i] : s)).join('/');
  if (url.query) {
    const oldPairs = old.query ? queryPairs(old.query) : [];
    url.query = joinPairs(
      queryPairs(url.query).map(({ name, value }) => {
        if (value !== REDACTED) return { name, value };
        const key = decodeComponent(name);
        const match = oldPairs.find((pair) => decodeComponent(pair.name) === key && pair.value !== null);
        return { name, value: match ? match.value : value };
      }),
    );
  }
  return joinUrl(url);
}
