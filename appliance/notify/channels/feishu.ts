// ALM-5: Feishu / Lark custom bot (飞书自定义机器人), an interactive card, optional signature check.
import { createHmac } from 'node:crypto';
import { FeishuSettings } from './settings.ts';
import { httpCall, jsonHeaders, robotResult } from './http.ts';
import type { Channel } from './types.ts';
import type { AlarmNotice } from '../message.ts';
import { checkUrl, validateSettings } from './validate.ts';

/** Feishu's signature: base64(HMAC-SHA256(key = `${timestamp}\n${secret}`, empty message)), timestamp in s. */
export function feishuSign(timestamp: string, secret: string): string {
  return createHmac('sha256', `${timestamp}\n${secret}`).update('').digest('base64');
}

// 9499: too many requests; 11232: frequency limited. Signature (19021), keyword (19024), IP
// (19022) and bad-request codes will not change by waiting.
const RETRYABLE = new Set([9499, 11232]);
// The signature secret, and (issue 16.6) the hook id in a URL's path — whoever has it can post.
const SECRETS = { secretFields: ['secret'], secretUrls: ['url', 'escalation_url'] };

const HEADER_COLOURS: Record<AlarmNotice['event'], string> = { raised: 'red', cleared: 'green', test: 'blue' };

export const feishu: Channel<FeishuSettings> = {
  kind: 'feishu',
  settings: FeishuSettings,
  ...SECRETS,
  validate: (input) =>
    validateSettings('feishu', FeishuSettings, input, SECRETS, (s, report) => {
      checkUrl(s.url, 'url', report);
      checkUrl(s.escalation_url, 'escalation_url', report); // ALM-13
    }),
  async send(notice, rendered, settings, options) {
    // The card header carries the title; lark_md has no headings and breaks lines on a single \n.
    const content = rendered.markdown.replace(/^###[^\n]*\n+/, '').replace(/\n\n/g, '\n');
    const body: Record<string, unknown> = {
      msg_type: 'interactive',
      card: {
        config: { wide_screen_mode: true },
        header: { title: { tag: 'plain_text', content: rendered.title }, template: HEADER_COLOURS[notice.event] },
        elements: [{ tag: 'div', text: { tag: 'lark_md', content } }],
      },
    };
    if (settings.secret) {
      const timestamp = String(Math.floor(Date.now() / 1000)); // Feishu allows an hour of skew
      body.timestamp = timestamp;
      body.sign = feishuSign(timestamp, settings.secret);
    }
    const outcome = await httpCall(settings.url, { method: 'POST', headers: jsonHeaders(), body: JSON.stringify(body) }, options);
    if (!outcome.ok) return outcome.failure;
    // Current answers carry {code, msg}; older ones only {StatusCode, StatusMessage}.
    return robotResult(
      outcome.answer,
      (json) => ('code' in json ? { code: json.code, message: json.msg } : { code: json.StatusCode, message: json.StatusMessage }),
      RETRYABLE,
    );
  },
};
