// ALM-13: each channel's escalation recipients — the second recipient set an escalation is sent
// to — as the channel's own settings with the usual recipients replaced, so that sending stays the
// channel's one send(). null: the channel has no escalation recipients and sends no escalation.
import type { ChannelKind } from './types.ts';
import type { DingTalkSettings, EmailSettings, FeishuSettings, SmsSettings, VoiceSettings, WebhookSettings, WeComSettings } from './settings.ts';

type Retarget<S> = (settings: S) => S | null;

const nonEmpty = (list: string[] | undefined): list is string[] => Array.isArray(list) && list.length > 0;

const TARGETS: { [K in ChannelKind]: Retarget<any> } = {
  email: ((s: EmailSettings) => (nonEmpty(s.escalation_to) ? { ...s, recipients: s.escalation_to } : null)) satisfies Retarget<EmailSettings>,
  // The same group robot, @mentioning the supervisors.
  dingtalk: ((s: DingTalkSettings) =>
    nonEmpty(s.escalation_at_mobiles) ? { ...s, at_mobiles: s.escalation_at_mobiles, at_all: false } : null) satisfies Retarget<DingTalkSettings>,
  feishu: ((s: FeishuSettings) => (s.escalation_url ? { ...s, url: s.escalation_url } : null)) satisfies Retarget<FeishuSettings>,
  wecom: ((s: WeComSettings) => (s.escalation_url ? { ...s, url: s.escalation_url } : null)) satisfies Retarget<WeComSettings>,
  webhook: ((s: WebhookSettings) => (s.escalation_url ? { ...s, url: s.escalation_url } : null)) satisfies Retarget<WebhookSettings>,
  sms: ((s: SmsSettings) => (nonEmpty(s.escalation_phones) ? { ...s, phone_numbers: s.escalation_phones } : null)) satisfies Retarget<SmsSettings>,
  voice: ((s: VoiceSettings) => (nonEmpty(s.escalation_phones) ? { ...s, called_numbers: s.escalation_phones } : null)) satisfies Retarget<VoiceSettings>,
};

/** The validated settings of `kind` pointed at its escalation recipients, or null when it has none. */
export function escalationSettings<S>(kind: ChannelKind, settings: S): S | null {
  return TARGETS[kind](settings) as S | null;
}
