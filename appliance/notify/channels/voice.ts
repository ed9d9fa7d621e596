// ALM-13: Aliyun voice notification (阿里云语音通知, dyvmsapi SingleCallByTts): a phone call that
// reads out an approved text-to-speech template with the detector, location, gas and level — what
// wakes a supervisor at night. Signed like the SMS API (aliyun-rpc.ts). The API calls one number
// per request; each number is called, and the attempt fails (and is retried by the outbox) unless
// every call was accepted: a second call to someone already reached is better than one not made.
import { VoiceSettings } from './settings.ts';
import { aliyunRpc } from './aliyun-rpc.ts';
import { checkAliyunAccess, templateParam } from './sms.ts';
import type { Channel, SendResult } from './types.ts';
import { checkMobiles, validateSettings } from './validate.ts';

export const voice: Channel<VoiceSettings> = {
  kind: 'voice',
  settings: VoiceSettings,
  secretFields: ['access_key_secret'],
  validate: (input) =>
    validateSettings('voice', VoiceSettings, input, ['access_key_secret'], (s, report) => {
      checkAliyunAccess(s, report);
      checkMobiles(s.called_numbers, 'called_numbers', report);
      checkMobiles(s.escalation_phones, 'escalation_phones', report);
      if (typeof s.called_show_number === 'string' && s.called_show_number !== '' && !/^[0-9A-Za-z_-]{3,32}$/.test(s.called_show_number)) {
        report('called_show_number', `'${s.called_show_number}' is neither a number nor a service instance id`);
      }
    }),
  async send(_notice, rendered, settings, options) {
    const results: { number: string; result: SendResult }[] = [];
    for (const number of settings.called_numbers) {
      const params: Record<string, string> = {
        CalledNumber: number,
        TtsCode: settings.tts_code,
        TtsParam: templateParam(settings.tts_params, rendered.facts),
        PlayTimes: String(settings.play_times),
      };
      // Empty: public mode (公共模式), Aliyun picks a number from its pool.
      if (settings.called_show_number) params.CalledShowNumber = settings.called_show_number;
      const result = await aliyunRpc({
        endpoint: settings.endpoint, accessKeyId: settings.access_key_id, accessKeySecret: settings.access_key_secret,
        regionId: settings.region_id, version: '2017-05-25', action: 'SingleCallByTts', params,
      }, options);
      results.push({ number, result });
    }
    return combined(results);
  },
};

/** Every call accepted: success; otherwise a failure naming each number's result, retried when any could pass. */
function combined(results: { number: string; result: SendResult }[]): SendResult {
  const detail = results.map(({ number, result }) => `${number}: ${result.detail}`).join('; ');
  const failed = results.filter(({ result }) => !result.ok);
  if (!failed.length) return { ok: true, detail };
  return { ok: false, detail, retryable: failed.some(({ result }) => !result.ok && result.retryable) };
}
