// ALM-5/ALM-6: the contract between the outbox worker and a notification channel.
import type { TSchema } from '@sinclair/typebox';
import type { AlarmNotice, RenderedMessage } from '../message.ts';

import type { ChannelKind } from '../../contract/alarm.ts';
export { CHANNEL_KINDS, type ChannelKind } from '../../contract/alarm.ts';

/**
 * The result of one delivery attempt. A failure carries the server's own reason (shown on the
 * outbox record) and whether trying again later can help (network, timeout, 5xx, 429, rate
 * limits) or not (4xx, authentication, configuration).
 */
export type SendResult = { ok: true; detail: string } | SendFailure;
export type SendFailure = { ok: false; detail: string; retryable: boolean };

export interface SendOptions {
  /** Upper bound for the whole attempt (connect, TLS, request, answer). */
  timeoutMs: number;
  /** Cancels the attempt, e.g. at shutdown. */
  signal?: AbortSignal;
}

export interface Channel<S> {
  kind: ChannelKind;
  /** TypeBox schema of the settings: type, defaults and documentation (API and UI forms). */
  settings: TSchema;
  /** Top-level settings fields sealed at rest and redacted in API output (API-7). */
  secretFields: string[];
  /**
   * URL fields with a key inside the address (WeCom `key=`, DingTalk `access_token=`, a Feishu
   * hook id): sealed whole at rest, shown with the key masked (issue 16.6, core/secrets.ts).
   */
  secretUrls?: string[];
  /** Name → value maps whose every value is secret (the webhook's extra headers), issue 16.6. */
  secretMaps?: string[];
  /** Defaults applied and every problem listed: throws AppError 50001 (ALARM_CONFIG_INVALID). */
  validate(settings: unknown): S;
  /**
   * One delivery attempt. Never throws for network or server failures (they come back as
   * `ok: false`); a throw means a bug, e.g. settings that did not go through validate().
   */
  send(notice: AlarmNotice, rendered: RenderedMessage, settings: S, options: SendOptions): Promise<SendResult>;
}
