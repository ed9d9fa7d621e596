// ALM-5: Aliyun's RPC-style OpenAPI as the SMS (dysmsapi) and voice (dyvmsapi) channels call it:
// common parameters, Signature Version 1.0 (HMAC-SHA1 over the canonical query), one signed GET,
// and the answer ({Code, Message, …}) turned into a send result. One copy for both products.
import { createHmac, randomUUID } from 'node:crypto';
import { bodySnippet, httpCall, isRetryableStatus, statusFailure } from './http.ts';
import type { SendOptions, SendResult } from './types.ts';

/** Aliyun's encoding: RFC 3986, only A-Z a-z 0-9 - _ . ~ left as they are, UTF-8, %XX upper case. */
export function aliyunEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Parameters sorted by name, names and values encoded, joined with '&'. */
export function canonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((name) => `${aliyunEncode(name)}=${aliyunEncode(params[name])}`)
    .join('&');
}

/** Signature = base64(HMAC-SHA1(key = AccessKeySecret + '&', `GET&%2F&<encoded canonical query>`)). */
export function aliyunSignature(params: Record<string, string>, accessKeySecret: string, method = 'GET'): string {
  const stringToSign = `${method}&${aliyunEncode('/')}&${aliyunEncode(canonicalQuery(params))}`;
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign).digest('base64');
}

// Rate limits and server trouble pass; every other code (isv.*, signature, key) needs a person.
const RETRYABLE_CODES = new Set(['isv.BUSINESS_LIMIT_CONTROL', 'isp.SYSTEM_ERROR', 'ServiceUnavailable', 'InternalError']);

export interface AliyunCall {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  regionId: string;
  /** The product's API version, e.g. '2017-05-25'. */
  version: string;
  action: string;
  /** The action's own parameters (PhoneNumbers, TtsCode, …). */
  params: Record<string, string>;
}

/** One signed RPC call (a fresh nonce and timestamp each time) and its answer as a send result. */
export async function aliyunRpc(call: AliyunCall, options: SendOptions): Promise<SendResult> {
  const params: Record<string, string> = {
    AccessKeyId: call.accessKeyId,
    Action: call.action,
    Format: 'JSON',
    RegionId: call.regionId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureNonce: randomUUID(), // Aliyun refuses a nonce it has seen in the last 15 minutes
    SignatureVersion: '1.0',
    Timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    Version: call.version,
    ...call.params,
  };
  const signature = aliyunSignature(params, call.accessKeySecret);
  const endpoint = new URL(call.endpoint);
  const url = `${endpoint.origin}${endpoint.pathname}?Signature=${aliyunEncode(signature)}&${canonicalQuery(params)}`;
  const outcome = await httpCall(url, { method: 'GET' }, options);
  if (!outcome.ok) return outcome.failure;
  return aliyunResult(outcome.answer.status, outcome.answer.json, outcome.answer.body);
}

/** `{Code: 'OK'}` with a 2xx is success (with the receipt id); any other code is the reason. */
export function aliyunResult(status: number, json: unknown, body: string): SendResult {
  const answer = (typeof json === 'object' && json !== null ? json : {}) as { Code?: unknown; Message?: unknown; BizId?: unknown; CallId?: unknown };
  if (typeof answer.Code !== 'string') {
    return statusFailure({ status, body, json, location: null }) ?? { ok: false, detail: `unexpected answer: ${bodySnippet(body)}`, retryable: false };
  }
  if (answer.Code === 'OK' && status >= 200 && status < 300) {
    const receipt = typeof answer.BizId === 'string' ? ` BizId=${answer.BizId}` : typeof answer.CallId === 'string' ? ` CallId=${answer.CallId}` : '';
    return { ok: true, detail: `OK${receipt}` };
  }
  const message = typeof answer.Message === 'string' ? answer.Message : '';
  const retryable = isRetryableStatus(status) || RETRYABLE_CODES.has(answer.Code) || answer.Code.startsWith('Throttling');
  return { ok: false, detail: `${answer.Code}: ${message}`.replace(/: $/, ''), retryable };
}
