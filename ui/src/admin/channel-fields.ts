// The form fields of each notification channel (ALM-5), mirroring
// appliance/notify/channels/settings.ts. Secrets come from the API as "******"; sending that
// back keeps the stored secret (API-7), so the form simply round-trips it.
export type FieldKind = 'text' | 'number' | 'bool' | 'secret' | 'list' | 'json';

export interface ChannelField {
  name: string;
  kind: FieldKind;
  placeholder?: string;
  /** for a switch not saved yet: the server's default (tls_verify stays on unless turned off) */
  defaultOn?: boolean;
}

export const CHANNEL_KINDS = ['email', 'dingtalk', 'feishu', 'wecom', 'webhook', 'sms', 'voice'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export const CHANNEL_FIELDS: Record<ChannelKind, ChannelField[]> = {
  email: [
    { name: 'host', kind: 'text', placeholder: 'smtp.example.com' },
    { name: 'port', kind: 'number', placeholder: '587' },
    { name: 'secure', kind: 'bool' },
    { name: 'starttls', kind: 'bool' },
    { name: 'tls_verify', kind: 'bool', defaultOn: true },
    { name: 'user', kind: 'text' },
    { name: 'pass', kind: 'secret' },
    { name: 'from', kind: 'text', placeholder: 'MCS Edge <alarm@example.com>' },
    { name: 'recipients', kind: 'list', placeholder: 'safety@example.com' },
    { name: 'escalation_to', kind: 'list', placeholder: 'supervisor@example.com' },
  ],
  dingtalk: [
    { name: 'url', kind: 'text', placeholder: 'https://oapi.dingtalk.com/robot/send?access_token=…' },
    { name: 'secret', kind: 'secret', placeholder: 'SEC…' },
    { name: 'at_mobiles', kind: 'list' },
    { name: 'at_all', kind: 'bool' },
    { name: 'escalation_at_mobiles', kind: 'list' },
  ],
  feishu: [
    { name: 'url', kind: 'text', placeholder: 'https://open.feishu.cn/open-apis/bot/v2/hook/…' },
    { name: 'secret', kind: 'secret' },
    { name: 'escalation_url', kind: 'text', placeholder: 'https://open.feishu.cn/open-apis/bot/v2/hook/…' },
  ],
  wecom: [
    { name: 'url', kind: 'text', placeholder: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…' },
    { name: 'escalation_url', kind: 'text', placeholder: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…' },
  ],
  webhook: [
    { name: 'url', kind: 'text', placeholder: 'https://…' },
    { name: 'headers', kind: 'json', placeholder: '{"X-Token": "…"}' },
    { name: 'secret', kind: 'secret' },
    { name: 'escalation_url', kind: 'text', placeholder: 'https://…' },
  ],
  sms: [
    { name: 'access_key_id', kind: 'text' },
    { name: 'access_key_secret', kind: 'secret' },
    { name: 'sign_name', kind: 'text' },
    { name: 'template_code', kind: 'text', placeholder: 'SMS_123456789' },
    { name: 'phone_numbers', kind: 'list' },
    { name: 'escalation_phones', kind: 'list' },
    { name: 'template_params', kind: 'json', placeholder: '{"device": "device", "type": "type", "value": "value"}' },
    { name: 'region_id', kind: 'text', placeholder: 'cn-hangzhou' },
    { name: 'endpoint', kind: 'text', placeholder: 'https://dysmsapi.aliyuncs.com/' },
  ],
  // ALM-13: Aliyun voice notification, for critical alarms and escalation steps.
  voice: [
    { name: 'access_key_id', kind: 'text' },
    { name: 'access_key_secret', kind: 'secret' },
    { name: 'tts_code', kind: 'text', placeholder: 'TTS_123456789' },
    { name: 'called_show_number', kind: 'text' },
    { name: 'called_numbers', kind: 'list' },
    { name: 'escalation_phones', kind: 'list' },
    { name: 'tts_params', kind: 'json', placeholder: '{"detector": "device", "location": "location", "gas": "gas", "level": "level"}' },
    { name: 'play_times', kind: 'number', placeholder: '3' },
    { name: 'region_id', kind: 'text', placeholder: 'cn-hangzhou' },
    { name: 'endpoint', kind: 'text', placeholder: 'https://dyvmsapi.aliyuncs.com/' },
  ],
};

export type FormValues = Record<string, string | boolean>;

/** A form value refused before sending; the UI says it with the field's label (lib/api.ts errorText). */
export class FieldError extends Error {
  readonly problem: { in: string; path: string; field: string; rule: string; message: string };
  constructor(field: string, rule: string, message: string) {
    super(message);
    this.problem = { in: 'form', path: `/${field}`, field, rule, message };
  }
}

/** Stored settings → form values (lists one per line, objects as JSON text). */
export function toForm(kind: ChannelKind, settings: Record<string, unknown> | undefined): FormValues {
  const values: FormValues = {};
  for (const field of CHANNEL_FIELDS[kind]) {
    const value = settings?.[field.name];
    if (field.kind === 'bool') values[field.name] = value === undefined ? field.defaultOn === true : value === true;
    else if (field.kind === 'list') values[field.name] = Array.isArray(value) ? value.join('\n') : '';
    else if (field.kind === 'json') values[field.name] = value && typeof value === 'object' ? JSON.stringify(value) : '';
    else values[field.name] = value === undefined || value === null ? '' : String(value);
  }
  return values;
}

/** Form values → settings for the API; empty optional texts are left out, bad JSON throws. */
export function fromForm(kind: ChannelKind, values: FormValues): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const field of CHANNEL_FIELDS[kind]) {
    const value = values[field.name];
    if (field.kind === 'bool') settings[field.name] = value === true;
    else if (typeof value !== 'string' || value.trim() === '') continue;
    else if (field.kind === 'number') settings[field.name] = Number(value);
    else if (field.kind === 'list') settings[field.name] = value.split(/[\n,;]+/).map((s) => s.trim()).filter(Boolean);
    else if (field.kind === 'json') {
      try {
        settings[field.name] = JSON.parse(value);
      } catch {
        throw new FieldError(field.name, 'json', `${field.name}: not valid JSON`);
      }
    } else settings[field.name] = value.trim();
  }
  return settings;
}
