// ALM-5: the notification channels the outbox worker delivers through, and the admin's "test send".
import { AppError, type ErrorName } from '../../core/errors.ts';
import type { Clock } from '../../core/clock.ts';
import { renderAlarmMessage, type AlarmNotice, type Language, type RenderOptions } from '../message.ts';
import { dingtalk } from './dingtalk.ts';
import { email } from './email.ts';
import { feishu } from './feishu.ts';
import { sms } from './sms.ts';
import { voice } from './voice.ts';
import { escalationSettings } from './escalation-targets.ts';
import { webhook } from './webhook.ts';
import { wecom } from './wecom.ts';
import { CHANNEL_KINDS, type Channel, type ChannelKind, type SendOptions, type SendResult } from './types.ts';

export { CHANNEL_KINDS, type Channel, type ChannelKind, type SendFailure, type SendOptions, type SendResult } from './types.ts';
export * from './settings.ts';

export const CHANNELS: Record<ChannelKind, Channel<any>> = { email, dingtalk, feishu, wecom, webhook, sms, voice };
export { escalationSettings };

/** The business code a failed test send is reported with (seed §10.5). */
export const FAILURE_CODES: Record<ChannelKind, ErrorName> = {
  email: 'ALARM_EMAIL_FAILED',
  dingtalk: 'ALARM_WEBHOOK_FAILED',
  feishu: 'ALARM_WEBHOOK_FAILED',
  wecom: 'ALARM_WEBHOOK_FAILED',
  webhook: 'ALARM_WEBHOOK_FAILED',
  sms: 'ALARM_SMS_FAILED',
  voice: 'ALARM_VOICE_FAILED',
};

export function isChannelKind(value: unknown): value is ChannelKind {
  return typeof value === 'string' && (CHANNEL_KINDS as readonly string[]).includes(value);
}

export interface TestSendDeps {
  language: Language;
  timezone: string;
  /** Default 10 s: the admin waits for the answer. */
  timeoutMs?: number;
  clock?: Clock;
  signal?: AbortSignal;
}

/** A made-up alarm that looks like a real one, so the admin sees the real layout. */
export function testNotice(language: Language, at: number): AlarmNotice {
  const zh = language === 'zh-CN';
  return {
    alarmId: 0,
    event: 'test',
    type: 'HIGH',
    sn: 'TEST0001',
    deviceName: zh ? '测试设备' : 'Test detector',
    location: zh ? '测试位置' : 'Test location',
    value: 1234.5,
    limit: 1000,
    unit: 'ppm',
    at,
    detail: zh ? '这是一条测试消息，用于确认通知渠道配置正确。' : 'A test message to confirm the channel settings work.',
  };
}

/**
 * ALM-5 "test send": validates (AppError 50001 listing every problem) and sends a test notice
 * now, bypassing the outbox. A failure throws AppError 50002 (e-mail), 50003 (webhooks) or
 * 50004 (SMS) or 50006 (voice) with the server's reason as detail.
 */
export async function testSend(kind: ChannelKind, settings: unknown, deps: TestSendDeps): Promise<SendResult & { ok: true }> {
  if (!isChannelKind(kind)) {
    throw new AppError('ALARM_CONFIG_INVALID', [`kind: '${String(kind)}' is not one of ${CHANNEL_KINDS.join(', ')}`]);
  }
  const channel = CHANNELS[kind];
  const valid = channel.validate(settings);
  const notice = testNotice(deps.language, deps.clock?.now() ?? Date.now());
  const rendered = renderAlarmMessage(notice, { language: deps.language, timezone: deps.timezone });
  const result = await channel.send(notice, rendered, valid, { timeoutMs: deps.timeoutMs ?? 10_000, signal: deps.signal });
  if (!result.ok) {
    const key = FAILURE_CODES[kind];
    throw new AppError(key, result.detail, `${kind} test failed: ${result.detail}`);
  }
  return result;
}

/**
 * ALM-6: one outbox attempt from stored (already opened) settings: validates, renders in the site
 * language and sends. Settings that no longer validate are a failure that does not retry. An
 * escalation (ALM-13, `notice.escalation`) goes to the channel's escalation recipients.
 */
export async function deliverNotice(
  kind: ChannelKind,
  settings: unknown,
  notice: AlarmNotice,
  site: RenderOptions,
  options: SendOptions,
): Promise<SendResult> {
  const channel = CHANNELS[kind];
  if (!channel) return { ok: false, detail: `unknown channel kind '${String(kind)}'`, retryable: false };
  let valid: unknown;
  try {
    valid = channel.validate(settings);
  } catch (err) {
    if (err instanceof AppError) return { ok: false, detail: err.message, retryable: false };
    throw err;
  }
  if (notice.escalation) {
    valid = escalationSettings(kind, valid);
    if (valid === null) return { ok: false, detail: `no escalation recipients in the ${kind} settings`, retryable: false };
  }
  return channel.send(notice, renderAlarmMessage(notice, site), valid, options);
}
