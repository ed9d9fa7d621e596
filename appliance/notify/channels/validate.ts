// ALM-5: channel settings are validated at the edge, before any network call, and every problem
// is listed at once (`path: message`, like the config) in an AppError 50001.
import { Kind, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AppError } from '../../core/errors.ts';
import { hasMaskedPart, maskUrl, REDACTED, secretLayout, type SecretSpec } from '../../core/secrets.ts';

export type Report = (path: string, message: string) => void;
/** Checks beyond the schema; values may still have the wrong type (the schema reported those). */
export type SemanticCheck = (settings: Record<string, unknown>, report: Report) => void;

export function validateSettings<T extends TSchema>(
  kind: string,
  schema: T,
  input: unknown,
  secrets: SecretSpec,
  check?: SemanticCheck,
): Static<T> {
  if (!isPlainObject(input)) throw invalid(kind, ['(root): settings must be an object']);
  // A null field is an unset one (the API shows unset secrets as null): defaults then apply.
  const cleaned = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null));
  const settings = Value.Default(schema, Value.Clone(cleaned)) as Record<string, unknown>;
  // TypeBox merges a record's default into a given record; a given map replaces the default.
  const properties = (schema.properties ?? {}) as Record<string, TSchema>;
  for (const [key, value] of Object.entries(cleaned)) {
    if (properties[key]?.[Kind] === 'Record') settings[key] = Value.Clone(value);
  }

  const problems = new Map<string, string>();
  const report: Report = (path, message) => {
    if (!problems.has(path)) problems.set(path, message);
  };
  for (const error of Value.Errors(schema, settings)) {
    report(error.path.slice(1).replaceAll('/', '.') || '(root)', error.message);
  }
  const layout = secretLayout(secrets);
  for (const field of layout.secretFields) {
    const value = settings[field];
    if (value === REDACTED) report(field, `is the redacted placeholder '${REDACTED}', not the secret`);
    else if (isSealedText(value)) report(field, 'is still sealed; open it before use');
  }
  // Issue 16.6: a masked key the stored one could not fill in (see restoreMaskedUrl).
  for (const field of layout.secretUrls) {
    const value = settings[field];
    if (isSealedText(value)) report(field, 'is still sealed; open it before use');
    else if (typeof value === 'string' && hasMaskedPart(value)) {
      report(
        field,
        `still holds '${REDACTED}' where its key was: type the whole address again (the saved key is kept only ` +
          `while scheme, host and port stay the same) / 地址中的密钥仍是 '${REDACTED}'：请重新输入完整地址（仅当协议、主机和端口不变时才沿用已保存的密钥）`,
      );
    }
  }
  for (const field of layout.secretMaps) {
    const map = settings[field];
    if (!isPlainObject(map)) continue;
    for (const [name, value] of Object.entries(map)) {
      if (value === REDACTED) {
        report(`${field}.${name}`, `is '${REDACTED}' but no value is saved under this name: type the value / 该名称下没有已保存的值，请输入`);
      } else if (isSealedText(value)) report(`${field}.${name}`, 'is still sealed; open it before use');
    }
  }
  check?.(settings, report);
  if (problems.size) throw invalid(kind, [...problems].map(([path, message]) => `${path}: ${message}`));
  return settings as Static<T>;
}

function invalid(kind: string, problems: string[]): AppError {
  return new AppError('ALARM_CONFIG_INVALID', problems, `invalid ${kind} settings: ${problems.join('; ')}`);
}

const isSealedText = (value: unknown) => typeof value === 'string' && value.startsWith('enc:v1:');

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An http(s) URL with a host. */
export function checkUrl(value: unknown, path: string, report: Report): void {
  if (typeof value !== 'string' || value === '') return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return report(path, `'${shorten(maskUrl(value))}' is not a URL`);
  }
  // Issue 16.6: the URL parser drops tabs and newlines and reads a backslash as '/'; the key
  // masking reads the address as written, so both must agree on where the key is.
  if (/[\s\\\u0000-\u001f\u007f]/.test(value)) report(path, 'must not contain spaces, backslashes or control characters (percent-encode them)');
  else if (url.protocol !== 'https:' && url.protocol !== 'http:') report(path, `must be an http or https URL (got ${url.protocol})`);
  else if (!url.hostname) report(path, 'has no host');
}

const ADDRESS = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\.]+(\.[^\s@<>(),;:"[\]\\.]+)+$/;
const NAMED_ADDRESS = /^[^<>]*<\s*([^<>]+?)\s*>$/;

/** `user@example.com`, or with `named`: also `Display Name <user@example.com>`. */
export function isEmailAddress(value: string, named = false): boolean {
  const inner = named ? (NAMED_ADDRESS.exec(value.trim())?.[1] ?? value.trim()) : value.trim();
  return inner.length <= 254 && ADDRESS.test(inner);
}

const MOBILE = /^\+?[0-9]{5,20}$/;

/** Each element a mobile number: digits with an optional leading +. */
export function checkMobiles(value: unknown, path: string, report: Report): void {
  if (!Array.isArray(value)) return;
  value.forEach((item, i) => {
    if (typeof item === 'string' && !MOBILE.test(item)) report(`${path}.${i}`, `'${shorten(item)}' is not a mobile number`);
  });
}

export function shorten(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
