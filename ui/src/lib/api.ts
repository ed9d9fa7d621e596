// The REST client: JSON in and out with the Bearer token, errors as ApiError carrying the API's
// {code, message, detail} (API-2), and downloads through fetch → blob so the token never goes in
// a URL that could be bookmarked or logged.
import type { ErrorBody } from '../../../appliance/contract/api.ts';
import { en } from '../i18n/en.ts';
import { lang, t, type TextKey } from '../i18n/i18n.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly serverMessage: string,
    readonly detail: unknown,
  ) {
    super(serverMessage);
  }
}

let token: string | null = null;
let onUnauthorized: (() => void) | null = null;

export function setApiToken(next: string | null, unauthorized?: () => void) {
  token = next;
  if (unauthorized) onUnauthorized = unauthorized;
}

async function failure(response: Response): Promise<ApiError> {
  let body: Partial<ErrorBody> = {};
  try {
    body = (await response.json()) as ErrorBody;
  } catch {
    /* not JSON: a proxy page or a dropped connection */
  }
  return new ApiError(response.status, body.code ?? response.status, body.message ?? response.statusText, body.detail ?? null);
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, 0, 'network error', null);
  }
  if (!response.ok) {
    const error = await failure(response);
    if (error.code === 10002) onUnauthorized?.();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const api = {
  get: <T>(path: string) => request<T>('GET', path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  del: <T>(path: string) => request<T>('DELETE', path),
};

/** Builds ?a=1&b=2 from the defined, non-empty values. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** GET with the token, saved by the browser under the server's file name. */
export async function download(path: string, fallbackName: string): Promise<void> {
  const response = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!response.ok) throw await failure(response);
  const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const CODE_TEXT: Record<number, TextKey> = {
  0: 'err.network', 400: 'err.400', 404: 'err.404', 409: 'err.409', 429: 'err.429', 500: 'err.500',
  10001: 'err.10001', 10002: 'err.10002', 10003: 'err.10003',
  20001: 'err.20001', 20002: 'err.20002', 20003: 'err.20003', 20004: 'err.20004',
  40001: 'err.40001', 40002: 'err.40002', 40003: 'err.40003', 40004: 'err.40004', 40005: 'err.40005',
  50001: 'err.50001', 50002: 'err.50002', 50003: 'err.50003', 50004: 'err.50004',
  60001: 'err.60001', 60002: 'err.60002', 60003: 'err.60003',
  70001: 'err.70001', 70002: 'err.70002',
};

/** A problem of a refused request as the API lists it in `detail` (appliance/api/validation.ts). */
export interface Problem {
  in: string;
  path: string;
  field: string;
  rule: string;
  limit?: number | string | (string | number)[];
  form?: string;
  or_empty?: boolean;
  message: string;
}

/** Fields whose label is already a text of their form (devices, users, kiosk, alarm rules). */
const FIELD_TEXT: Record<string, TextKey> = {
  sn: 'devices.sn', name: 'devices.name', location: 'devices.location', gas: 'devices.gas', unit: 'devices.unit',
  range_max: 'devices.rangeMax', high_limit: 'devices.highLimit', low_limit: 'devices.lowLimit', credentials: 'devices.credentials',
  username: 'login.username', password: 'login.password', role: 'users.role', current_password: 'password.current', new_password: 'password.new',
  title: 'editor.title', stale_after_s: 'editor.staleAfter', connection_timeout_s: 'editor.connectionTimeout', show_unplaced: 'editor.showUnplaced', rotate_s: 'editor.rotate',
  debounce_min: 'channels.debounce', deadband_pct: 'channels.deadband', low_battery_pct: 'channels.lowBattery',
  'schedule.start': 'channels.from', 'schedule.end': 'channels.to', 'schedule.always_notify': 'channels.alwaysNotify',
  'schedule.notify_cleared': 'channels.notifyCleared', 'schedule.days': 'field.days', kiosk_name: 'users.kioskName',
};

const isText = (key: string): key is TextKey => Object.prototype.hasOwnProperty.call(en, key);

/**
 * A field's name in words in the user's language: `calib.k` → "Calibration slope k". Looked up by
 * the whole dotted path, then by its last part (`channels.email.host` → "SMTP server"); a field
 * with no label yet shows its key, never nothing.
 */
export function fieldLabel(field: string): string {
  if (!field) return t('field.input');
  const last = field.split('.').pop()!;
  // A field of a list entry (`targets.2.url`) by its place in any entry (`targets.*.url`), before its last part alone.
  const anyEntry = field.replace(/\.\d+(?=\.|$)/g, '.*');
  for (const name of [field, anyEntry, last]) {
    if (FIELD_TEXT[name]) return t(FIELD_TEXT[name]);
    if (isText(`field.${name}`)) return t(`field.${name}` as TextKey);
  }
  return field;
}

const isProblem = (item: unknown): item is Problem =>
  typeof item === 'object' && item !== null && typeof (item as Problem).rule === 'string' && typeof (item as Problem).message === 'string';

/** The structured problems of a 400, or [] (issue 16.11). */
export function problemsOf(error: unknown): Problem[] {
  if (!(error instanceof ApiError) || !Array.isArray(error.detail)) return [];
  return error.detail.filter(isProblem);
}

/** One problem as a sentence in the user's language: the field in words and what is allowed. */
export function problemText(p: Problem): string {
  const field = fieldLabel(p.field);
  const list = (values: (string | number)[]) => values.map((v) => String(v)).join(t('err.sep'));
  let limit = Array.isArray(p.limit) ? list(p.limit) : p.limit === undefined ? '' : String(p.limit);
  if (p.rule === 'type' && isText(`type.${limit}`)) limit = t(`type.${limit}` as TextKey);
  if (p.rule === 'below' || p.rule === 'above' || p.rule === 'notAbove') limit = fieldLabel(limit);
  if (p.rule === 'requires') limit = fieldLabel(p.field.replace(/[^.]*$/, limit)); // a field beside it
  let text: string;
  if (p.rule === 'pattern') text = p.form && isText(`form.${p.form}`) ? t('rule.pattern', { field, allowed: t(`form.${p.form}` as TextKey) }) : t('rule.patternUnknown', { field });
  else if (isText(`rule.${p.rule}`)) text = t(`rule.${p.rule}` as TextKey, { field, limit });
  else text = t('rule.invalid', { field });
  return p.or_empty ? `${text}${t('rule.orEmpty')}` : text;
}

/**
 * API-2 in the user's language: the business code's text and, for invalid input, each problem
 * with its field in words (issue 16.11). The server's own English specifics are appended only in
 * English; in Chinese they are kept for the tooltip (serverDetail) rather than ending a Chinese
 * sentence in English.
 */
export function errorText(error: unknown): string {
  if (!(error instanceof ApiError)) {
    const problem = (error as { problem?: unknown } | null)?.problem; // a form's own check (channel-fields.ts)
    if (isProblem(problem)) return problemText(problem);
    return error instanceof Error ? error.message : String(error);
  }
  const key = CODE_TEXT[error.code];
  if (!key) return error.serverMessage || t('err.unknown', { code: error.code });
  const base = t(key);
  const problems = problemsOf(error);
  if (problems.length) return t('err.problems', { base, problems: problems.map(problemText).join(t('err.sep')) });
  const extra = serverDetail(error);
  return extra && lang() === 'en' ? `${base} (${extra})` : base;
}

/** The server's English specifics of an error, when they say more than its code (for a tooltip). */
export function serverDetail(error: unknown): string {
  if (!(error instanceof ApiError)) return '';
  const generic = new Set(['invalid request', 'not found', 'conflict', 'internal error', 'network error']);
  return error.serverMessage && !generic.has(error.serverMessage) && error.code !== 10001 ? error.serverMessage : '';
}

/** True when the route does not exist yet on this appliance (the storage/archive pages). */
export const notAvailable = (error: unknown) => error instanceof ApiError && error.status === 404 && error.code === 404 && /^no route /.test(error.serverMessage);
