// ALM-5: WeCom group robot (企业微信群机器人), markdown message; the key is in the webhook URL.
import { WeComSettings } from './settings.ts';
import { httpCall, jsonHeaders, robotResult } from './http.ts';
import type { Channel } from './types.ts';
import { checkUrl, validateSettings } from './validate.ts';

// WeCom refuses markdown content over 4096 bytes.
const MAX_CONTENT_BYTES = 4096;
// -1: system busy; 45009: API frequency limit. Others (93000 bad key, 40058 bad content) will not change.
const RETRYABLE = new Set([-1, 45009]);
// Issue 16.6: a robot's key is the `key=` of its URL: sealed at rest, shown as `key=******`.
const SECRETS = { secretFields: [], secretUrls: ['url', 'escalation_url'] };

export const wecom: Channel<WeComSettings> = {
  kind: 'wecom',
  settings: WeComSettings,
  ...SECRETS,
  validate: (input) =>
    validateSettings('wecom', WeComSettings, input, SECRETS, (s, report) => {
      checkUrl(s.url, 'url', report);
      checkUrl(s.escalation_url, 'escalation_url', report); // ALM-13
      if (typeof s.url === 'string' && URL.canParse(s.url) && !new URL(s.url).searchParams.get('key')) {
        report('url', "has no 'key=' parameter (copy the robot's whole webhook address)");
      }
    }),
  async send(_notice, rendered, settings, options) {
    const body = { msgtype: 'markdown', markdown: { content: truncateUtf8(rendered.markdown, MAX_CONTENT_BYTES) } };
    const outcome = await httpCall(settings.url, { method: 'POST', headers: jsonHeaders(), body: JSON.stringify(body) }, options);
    if (!outcome.ok) return outcome.failure;
    return robotResult(outcome.answer, (json) => ({ code: json.errcode, message: json.errmsg }), RETRYABLE);
  },
};

export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let end = text.length;
  while (end > 0 && Buffer.byteLength(text.slice(0, end)) > maxBytes - 3) end--;
  return `${text.slice(0, end)}…`;
}
