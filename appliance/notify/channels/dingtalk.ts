// ALM-5: DingTalk group robot (钉钉自定义机器人), markdown message, optional 加签 signature.
import { createHmac } from 'node:crypto';
import { DingTalkSettings } from './settings.ts';
import { httpCall, jsonHeaders, robotResult } from './http.ts';
import type { Channel } from './types.ts';
import { checkMobiles, checkUrl, validateSettings } from './validate.ts';

/** DingTalk's signature: base64(HMAC-SHA256(key = secret, `${timestamp}\n${secret}`)), timestamp in ms. */
export function dingtalkSign(timestamp: string, secret: string): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
}

// 130101: more than 20 messages a minute; -1: system busy. Other codes (token, keyword, IP,
// signature: 300001, 310000, ...) will not change by waiting.
const RETRYABLE = new Set([-1, 130101]);
// The 加签 secret, and (issue 16.6) the `access_token=` of the URL: sealed at rest, masked in answers.
const SECRETS = { secretFields: ['secret'], secretUrls: ['url'] };

export const dingtalk: Channel<DingTalkSettings> = {
  kind: 'dingtalk',
  settings: DingTalkSettings,
  ...SECRETS,
  validate: (input) =>
    validateSettings('dingtalk', DingTalkSettings, input, SECRETS, (s, report) => {
      checkUrl(s.url, 'url', report);
      checkMobiles(s.at_mobiles, 'at_mobiles', report);
      checkMobiles(s.escalation_at_mobiles, 'escalation_at_mobiles', report); // ALM-13
    }),
  async send(_notice, rendered, settings, options) {
    const url = new URL(settings.url);
    if (settings.secret) {
      const timestamp = String(Date.now()); // DingTalk refuses a timestamp more than an hour off
      url.searchParams.set('timestamp', timestamp);
      url.searchParams.set('sign', dingtalkSign(timestamp, settings.secret)); // form-encoded: + / = escaped
    }
    // A markdown message only notifies the people it names in its text as well as in at.atMobiles.
    const mentions = settings.at_mobiles.map((mobile) => `@${mobile}`).join(' ');
    const body = {
      msgtype: 'markdown',
      markdown: { title: rendered.title, text: mentions ? `${rendered.markdown}\n\n${mentions}` : rendered.markdown },
      at: { atMobiles: settings.at_mobiles, isAtAll: settings.at_all },
    };
    const outcome = await httpCall(url, { method: 'POST', headers: jsonHeaders(), body: JSON.stringify(body) }, options);
    if (!outcome.ok) return outcome.failure;
    return robotResult(outcome.answer, (json) => ({ code: json.errcode, message: json.errmsg }), RETRYABLE);
  },
};
