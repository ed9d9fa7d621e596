// ALM-5: Aliyun SMS (阿里云短信) SendSms through the RPC-style API, signed with Signature
// Version 1.0 (HMAC-SHA1). The endpoint is a setting so tests can point it at a local server.
import { createHmac, randomUUID } from 'node:crypto';
import { SmsSettings, type SmsTemplateField } from './settings.ts';
import { bodySnippet, httpCall, isRetryableStatus, statusFailure } from './http.ts';
import type { Channel, SendResult } from './types.ts';
import { checkMobiles, checkUrl, validateSettings } from './validate.ts';
import type { AlarmFacts } from '../message.ts';

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

/** Aliyun caps a template variable's length (35 characters for most variable types). */
const MAX_PARAM_CHARS = 35;
// Rate limits and server trouble pass; every other code (isv.*, signature, key) needs a person.
const RETRYABLE_CODES = new Set(['isv.BUSINESS_LIMIT_CONTROL', 'isp.SYSTEM_ERROR', 'ServiceUnavailable', 'InternalError']);

export function templateParam(map: Record<string, SmsTemplateField>, facts: AlarmFacts): string {
  const values = Object.fromEntries(
    Object.entries(map).map(([name, field]) => [name, (facts[field] || '-').slice(0, MAX_PARAM_CHARS)]),
  );
  return JSON.stringify(values);
}

export const sms: Channel<SmsSettings> = {
  kind: 'sms',
  settings: SmsSettings,
  secretFields: ['access_key_secret'],
  validate: (input) =>
    validateSettings('sms', SmsSettings, input, ['access_key_secret'], (s, report) => {
      if (s.access_key_secret === '') report('access_key_secret', 'required');
      checkMobiles(s.phone_numbers, 'phone_numbers', report);
      checkUrl(s.endpoint, 'endpoint', report);
      if (typeof s.endpoint === 'string' && URL.canParse(s.endpoint) && new URL(s.endpoint).search) {
        report('endpoint', 'must not have a query string');
      }
    }),
  async send(_notice, rendered, settings, options) {
    const now = new Date();
    const params: Record<string, string> = {
      AccessKeyId: settings.access_key_id,
      Action: 'SendSms',
      Format: 'JSON',
      PhoneNumbers: settings.phone_numbers.join(','),
      RegionId: settings.region_id,
      SignName: settings.sign_name,
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: randomUUID(), // Aliyun refuses a nonce it has seen in the last 15 minutes
      SignatureVersion: '1.0',
      TemplateCode: settings.template_code,
      TemplateParam: templateParam(settings.template_params, rendered.facts),
      Timestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      Version: '2017-05-25',
    };
    const signature = aliyunSignature(params, settings.access_key_secret);
    const endpoint = new URL(settings.endpoint);
    const url = `${endpoint.origin}${endpoint.pathname}?Signature=${aliyunEncode(signature)}&${canonicalQuery(params)}`;
    const outcome = await httpCall(url, { method: 'GET' }, options);
    if (!outcome.ok) return outcome.failure;
    return aliyunResult(outcome.answer.status, outcome.answer.json, outcome.answer.body);
  },
};

function aliyunResult(status: number, json: unknown, body: string): SendResult {
  const answer = (typeof json === 'object' && json !== null ? json : {}) as { Code?: unknown; Message?: unknown; BizId?: unknown };
  if (typeof answer.Code !== 'string') {
    return statusFailure({ status, body, json, location: null }) ?? { ok: false, detail: `unexpected answer: ${bodySnippet(body)}`, retryable: false };
  }
  if (answer.Code === 'OK' && status >= 200 && status < 300) {
    return { ok: true, detail: `OK${typeof answer.BizId === 'string' ? ` BizId=${answer.BizId}` : ''}` };
  }
  const message = typeof answer.Message === 'string' ? answer.Message : '';
  const retryable = isRetryableStatus(status) || RETRYABLE_CODES.has(answer.Code) || answer.Code.startsWith('Throttling');
  return { ok: false, detail: `${answer.Code}: ${message}`.replace(/: $/, ''), retryable };
}
