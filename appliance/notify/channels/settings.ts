// ALM-5 (seed §4.4): the settings of each channel kind, one TypeBox schema each. This file has
// no runtime dependency but TypeBox so the API and the UI forms can use it as a contract.
// The on/off switch is not here: the alarm configuration holds `{ enabled, settings }` per kind.
import { Type, type Static } from '@sinclair/typebox';

const Url = (description: string) => Type.String({ minLength: 1, maxLength: 2048, description });
const Secret = (description: string) => Type.Optional(Type.String({ maxLength: 1024, description }));
const Mobiles = (description: string) => Type.Array(Type.String({ maxLength: 32 }), { default: [], maxItems: 100, description });
// ALM-13: each channel's second recipient set, for escalations only; empty: the channel sends no escalation.
const EscalationMobiles = (description: string) => Mobiles(`ALM-13 escalation: ${description}`);
const EscalationUrl = (description: string) =>
  Type.Optional(Type.String({ maxLength: 2048, description: `ALM-13 escalation: ${description}; empty: no escalation through this channel` }));

export const EmailSettings = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 253, description: 'SMTP server, e.g. smtp.qq.com' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
    secure: Type.Boolean({ default: false, description: 'TLS from the first byte (SSL, usually port 465)' }),
    starttls: Type.Boolean({
      default: false,
      description: 'require STARTTLS (usually port 587); when off, STARTTLS is still used if the server offers it',
    }),
    tls_verify: Type.Boolean({ default: true, description: "check the server's certificate (off for a LAN relay with a self-signed one)" }),
    user: Type.Optional(Type.String({ maxLength: 256, description: 'login; no authentication when empty' })),
    pass: Secret('password or authorization code (授权码)'),
    from: Type.String({ minLength: 1, maxLength: 320, description: 'sender, `alarm@example.com` or `Name <alarm@example.com>`' }),
    recipients: Type.Array(Type.String({ maxLength: 320 }), { minItems: 1, maxItems: 100 }),
    escalation_to: Type.Array(Type.String({ maxLength: 320 }), { default: [], maxItems: 100, description: 'ALM-13 escalation: supervisors mailed when an alarm stays unacknowledged' }),
  },
  { additionalProperties: false },
);
export type EmailSettings = Static<typeof EmailSettings>;

export const DingTalkSettings = Type.Object(
  {
    url: Url('robot webhook, https://oapi.dingtalk.com/robot/send?access_token=...'),
    secret: Secret('signing secret (SEC...), when the robot uses 加签'),
    at_mobiles: Mobiles('mobile numbers to @mention'),
    at_all: Type.Boolean({ default: false, description: '@everyone in the group' }),
    escalation_at_mobiles: EscalationMobiles('the same group, @mentioning these mobile numbers (supervisors)'),
  },
  { additionalProperties: false },
);
export type DingTalkSettings = Static<typeof DingTalkSettings>;

export const FeishuSettings = Type.Object(
  {
    url: Url('custom bot webhook, https://open.feishu.cn/open-apis/bot/v2/hook/...'),
    secret: Secret('signature secret, when the bot verifies signatures'),
    escalation_url: EscalationUrl("another bot's webhook (the supervisors' group), same signature secret"),
  },
  { additionalProperties: false },
);
export type FeishuSettings = Static<typeof FeishuSettings>;

export const WeComSettings = Type.Object(
  {
    url: Url('group robot webhook, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...'),
    escalation_url: EscalationUrl("another group robot's webhook (the supervisors' group)"),
  },
  { additionalProperties: false },
);
export type WeComSettings = Static<typeof WeComSettings>;

export const WebhookSettings = Type.Object(
  {
    url: Url('receives a JSON POST {notice, title, text}'),
    headers: Type.Record(Type.String(), Type.String({ maxLength: 4096 }), { default: {}, description: 'extra request headers' }),
    secret: Secret('when set, X-MCS-Signature: sha256=<hex HMAC-SHA256(secret, body)>'),
    escalation_url: EscalationUrl('another receiver of the same JSON POST (headers and secret as above)'),
  },
  { additionalProperties: false },
);
export type WebhookSettings = Static<typeof WebhookSettings>;

/** Alarm facts an SMS template variable can be filled with. */
export const SMS_TEMPLATE_FIELDS = ['device', 'sn', 'location', 'type', 'state', 'value', 'limit', 'time', 'gas', 'level', 'escalation'] as const;
export type SmsTemplateField = (typeof SMS_TEMPLATE_FIELDS)[number];

export const SmsSettings = Type.Object(
  {
    access_key_id: Type.String({ minLength: 1, maxLength: 128 }),
    access_key_secret: Type.String({ maxLength: 256 }),
    sign_name: Type.String({ minLength: 1, maxLength: 64, description: 'approved signature, e.g. 元芯传感' }),
    template_code: Type.String({ minLength: 1, maxLength: 64, description: 'approved template, e.g. SMS_123456789' }),
    phone_numbers: Type.Array(Type.String({ maxLength: 32 }), { minItems: 1, maxItems: 1000 }),
    escalation_phones: EscalationMobiles('supervisors texted when an alarm stays unacknowledged'),
    /** Template variable name → the alarm fact it shows, e.g. `{ "device": "device", "ppm": "value" }`. */
    template_params: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_]{1,64}$' }), Type.Union(SMS_TEMPLATE_FIELDS.map((f) => Type.Literal(f))), {
      default: { device: 'device', type: 'type', value: 'value' },
    }),
    region_id: Type.String({ minLength: 1, maxLength: 64, default: 'cn-hangzhou' }),
    endpoint: Type.String({ minLength: 1, maxLength: 2048, default: 'https://dysmsapi.aliyuncs.com/' }),
  },
  { additionalProperties: false },
);
export type SmsSettings = Static<typeof SmsSettings>;

/**
 * ALM-13: Aliyun voice notification (语音通知, dyvmsapi SingleCallByTts): a text-to-speech template
 * read out on a phone call, for critical alarms and escalations. One call per number.
 */
export const VoiceSettings = Type.Object(
  {
    access_key_id: Type.String({ minLength: 1, maxLength: 128 }),
    access_key_secret: Type.String({ maxLength: 256 }),
    tts_code: Type.String({ minLength: 1, maxLength: 64, description: 'approved TTS template, e.g. TTS_123456789' }),
    called_show_number: Type.String({ maxLength: 32, default: '', description: 'the number shown (专属模式); empty: public mode (公共模式)' }),
    called_numbers: Type.Array(Type.String({ maxLength: 32 }), { minItems: 1, maxItems: 20, description: 'called for critical alarms' }),
    escalation_phones: Type.Array(Type.String({ maxLength: 32 }), { default: [], maxItems: 20, description: 'ALM-13 escalation: supervisors called when an alarm stays unacknowledged' }),
    /** Template variable name → the alarm fact it says, as for SMS. */
    tts_params: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_]{1,64}$' }), Type.Union(SMS_TEMPLATE_FIELDS.map((f) => Type.Literal(f))), {
      default: { detector: 'device', location: 'location', gas: 'gas', level: 'level' },
    }),
    play_times: Type.Integer({ minimum: 1, maximum: 3, default: 3, description: 'times the message is read out (Aliyun: at most 3)' }),
    region_id: Type.String({ minLength: 1, maxLength: 64, default: 'cn-hangzhou' }),
    endpoint: Type.String({ minLength: 1, maxLength: 2048, default: 'https://dyvmsapi.aliyuncs.com/' }),
  },
  { additionalProperties: false },
);
export type VoiceSettings = Static<typeof VoiceSettings>;
