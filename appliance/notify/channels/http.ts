// ALM-6: one HTTP attempt for the webhook and SMS channels, bounded by a timeout, turned into data:
// a server answer, or a retryable failure for the network (refused, reset, DNS, timeout).
import type { SendFailure, SendOptions, SendResult } from './types.ts';

export interface HttpAnswer {
  status: number;
  body: string;
  /** The parsed body, undefined when it is not JSON. */
  json: unknown;
  location: string | null;
}

export type HttpOutcome = { ok: true; answer: HttpAnswer } | { ok: false; failure: SendFailure };

export interface HttpRequest {
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export async function httpCall(url: string | URL, request: HttpRequest, options: SendOptions): Promise<HttpOutcome> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  try {
    const response = await fetch(url, {
      method: request.method,
      headers: { 'user-agent': 'mcs-edge', ...request.headers },
      body: request.body,
      // A webhook moved elsewhere is a settings problem; following a redirect would turn the POST into a GET.
      redirect: 'manual',
      signal,
    });
    const body = await response.text();
    return {
      ok: true,
      answer: { status: response.status, body, json: parseJson(body), location: response.headers.get('location') },
    };
  } catch (err) {
    if (timeout.aborted) return networkFailure(`timed out after ${options.timeoutMs} ms`);
    if (options.signal?.aborted) return networkFailure('aborted');
    const cause = (err as Error & { cause?: NodeJS.ErrnoException }).cause;
    if (err instanceof TypeError && err.message === 'fetch failed') {
      const detail = cause ? [cause.code, cause.message].filter(Boolean).join(' ') : err.message;
      return { ok: false, failure: { ok: false, detail, retryable: !isTlsSetupError(cause?.code) } };
    }
    throw err; // not the network: a bug (an invalid URL or header got past validate())
  }
}

function networkFailure(detail: string): HttpOutcome {
  return { ok: false, failure: { ok: false, detail, retryable: true } };
}

/**
 * The server's certificate was refused, or TLS was spoken to a plain port (or the reverse):
 * waiting will not fix it, the settings or the server must change.
 */
export function isTlsSetupError(code: string | undefined): boolean {
  return !!code && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|^ERR_SSL_/.test(code);
}

/** Retry later for 5xx, 429 (rate limit) and 408 (request timeout); other statuses will not change. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** A failure for a non-2xx answer, or null when the status is 2xx. */
export function statusFailure(answer: HttpAnswer): SendFailure | null {
  if (answer.status >= 200 && answer.status < 300) return null;
  if (answer.status >= 300 && answer.status < 400) {
    return { ok: false, detail: `HTTP ${answer.status}: redirected to ${answer.location ?? '?'} (use the final URL)`, retryable: false };
  }
  const reason = bodySnippet(answer.body);
  return { ok: false, detail: `HTTP ${answer.status}${reason ? `: ${reason}` : ''}`, retryable: isRetryableStatus(answer.status) };
}

/** The start of an answer body on one line, for a failure detail. */
export function bodySnippet(body: string, max = 300): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max)}…`;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

export function jsonHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json; charset=utf-8', ...extra };
}

/**
 * Chat robots (DingTalk, WeCom, Feishu) answer HTTP 200 with a code in the body: 0 is success,
 * anything else a failure whose message is the server's reason. Rate-limit and busy codes retry.
 */
export function robotResult(
  answer: HttpAnswer,
  codeOf: (json: Record<string, unknown>) => { code: unknown; message: unknown },
  retryableCodes: ReadonlySet<number>,
): SendResult {
  const bad = statusFailure(answer);
  if (bad) return bad;
  const json = answer.json;
  if (typeof json !== 'object' || json === null) {
    return { ok: false, detail: `unexpected answer: ${bodySnippet(answer.body) || '(empty)'}`, retryable: false };
  }
  const { code, message } = codeOf(json as Record<string, unknown>);
  const text = typeof message === 'string' && message ? message : bodySnippet(answer.body);
  if (code === 0) return { ok: true, detail: `${code} ${text}`.trim() };
  if (typeof code !== 'number') return { ok: false, detail: `unexpected answer: ${bodySnippet(answer.body)}`, retryable: false };
  return { ok: false, detail: `${code} ${text}`, retryable: retryableCodes.has(code) };
}
