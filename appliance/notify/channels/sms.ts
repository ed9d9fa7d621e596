// ALM-5: Aliyun SMS (阿里云短信) SendSms through the RPC-style API, signed with Signature
// Version 1.0 (HMAC-SHA1, aliyun-rpc.ts). The endpoint is a setting so tests can point it at a
// local server.
import { SmsSettings, type SmsTemplateField } from './settings.ts';
import { aliyunRpc } from './aliyun-rpc.ts';
import type { Channel } from './types.ts';
import { checkMobiles, checkUrl, validateSettings, type Report } from './validate.ts';
import type { AlarmFacts } from '../message.ts';

export { aliyunEncode, aliyunSignature, canonicalQuery } from './aliyun-rpc.ts';

/** Aliyun caps a template variable's length (35 characters for most variable types). */
const MAX_PARAM_CHARS = 35;

export function templateParam(map: Record<string, SmsTemplateField>, facts: AlarmFacts): string {
  const values = Object.fromEntries(
    Object.entries(map).map(([name, field]) => [name, (facts[field] || '-').slice(0, MAX_PARAM_CHARS)]),
  );
  return JSON.stringify(values);
}

/** The checks the SMS and voice channels share: a key secret, an endpoint without a query. */
export function checkAliyunAccess(s: Record<string, unknown>, report: Report): void {
  if (s.access_key_secret === '') report('access_key_secret', 'required');
  checkUrl(s.endpoint, 'endpoint', report);
  if (typeof s.endpoint === 'string' && URL.canParse(s.endpoint) && new URL(s.endpoint).search) {
    report('endpoint', 'must not have a query string');
  }
}

export const sms: Channel<SmsSettings> = {
  kind: 'sms',
  settings: SmsSettings,
  secretFields: ['access_key_secret'],
  validate: (input) =>
    validateSettings('sms', SmsSettings, input, ['access_key_secret'], (s, report) => {
      checkAliyunAccess(s, report);
      checkMobiles(s.phone_numbers, 'phone_numbers', report);
      checkMobiles(s.escalation_phones, 'escalation_phones', report); // ALM-13
    }),
  async send(_notice, rendered, settings, options) {
    return aliyunRpc({
      endpoint: settings.endpoint,
      accessKeyId: settings.access_key_id,
      accessKeySecret: settings.access_key_secret,
      regionId: settings.region_id,
      version: '2017-05-25',
      action: 'SendSms',
      params: {
        PhoneNumbers: settings.phone_numbers.join(','),
        SignName: settings.sign_name,
        TemplateCode: settings.template_code,
        TemplateParam: templateParam(settings.template_params, rendered.facts),
      },
    }, options);
  },
};
