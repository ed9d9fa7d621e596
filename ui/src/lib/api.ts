// The REST client: JSON in and out with the Bearer token, errors as ApiError carrying the API's
// {code, message, detail} (API-2), and downloads through fetch → blob so the token never goes in
// a URL that could be bookmarked or logged.
import type { ErrorBody } from '../../../appliance/contract/api.ts';
import { t, type TextKey } from '../i18n/i18n.ts';

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
  40001: 'err.40001', 40002: 'err.40002', 40003: 'err.40003', 40004: 'err.40004',
  50001: 'err.50001', 50002: 'err.50002', 50003: 'err.50003', 50004: 'err.50004',
  60001: 'err.60001', 60002: 'err.60002', 60003: 'err.60003',
};

/** API-2 in the user's language: the business code's text, plus the server's specifics (which field, why). */
export function errorText(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const key = CODE_TEXT[error.code];
  if (!key) return error.serverMessage || t('err.unknown', { code: error.code });
  const base = t(key);
  const generic = new Set(['invalid request', 'not found', 'conflict', 'internal error', 'network error']);
  const extra = error.serverMessage && !generic.has(error.serverMessage) && error.code !== 10001 ? error.serverMessage : '';
  return extra ? `${base} (${extra})` : base;
}

/** True when the route does not exist yet on this appliance (the storage/archive pages). */
export const notAvailable = (error: unknown) => error instanceof ApiError && error.status === 404 && error.code === 404 && /^no route /.test(error.serverMessage);
