// ALM-5: generic webhook — a JSON POST of {notice, title, text}; any 2xx is success. With a
// secret the receiver can check X-MCS-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>.
import { createHmac } from 'node:crypto';
import { WebhookSettings } from './settings.ts';
import { httpCall, jsonHeaders, statusFailure } from './http.ts';
import type { Channel } from './types.ts';
import { checkUrl, isPlainObject, shorten, validateSettings } from './validate.ts';

export const SIGNATURE_HEADER = 'x-mcs-signature';

export function webhookSignature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/; // RFC 9110 header name
const RESERVED = new Set(['content-type', 'content-length', 'host', SIGNATURE_HEADER]);
// Issue 16.6: the signing secret; a key in a URL (query, user:password@, a token in the path);
// and every extra header value (Authorization, X-Api-Key…: core/secrets.ts says why all of them).
const SECRETS = { secretFields: ['secret'], secretUrls: ['url', 'escalation_url'], secretMaps: ['headers'] };

export const webhook: Channel<WebhookSettings> = {
  kind: 'webhook',
  settings: WebhookSettings,
  ...SECRETS,
  validate: (input) =>
    validateSettings('webhook', WebhookSettings, input, SECRETS, (s, report) => {
      checkUrl(s.url, 'url', report);
      checkUrl(s.escalation_url, 'escalation_url', report); // ALM-13
      if (!isPlainObject(s.headers)) return;
      for (const [name, value] of Object.entries(s.headers)) {
        if (!TOKEN.test(name)) report(`headers.${name}`, `'${shorten(name)}' is not a valid header name`);
        else if (RESERVED.has(name.toLowerCase())) report(`headers.${name}`, 'is set by the appliance');
        else if (typeof value === 'string' && /[\r\n\0]/.test(value)) report(`headers.${name}`, 'must be one line');
      }
    }),
  async send(notice, rendered, settings, options) {
    const body = JSON.stringify({ notice, title: rendered.title, text: rendered.text });
    const headers = jsonHeaders(settings.headers);
    if (settings.secret) headers[SIGNATURE_HEADER] = webhookSignature(body, settings.secret);
    const outcome = await httpCall(settings.url, { method: 'POST', headers, body }, options);
    if (!outcome.ok) return outcome.failure;
    return statusFailure(outcome.answer) ?? { ok: true, detail: `HTTP ${outcome.answer.status}` };
  },
};
