// Issue 17.7: the admin's test button for a broker that is not running as a target yet (the unsaved
// form): one connection of its own with the target's options, subscribed to the command topic when
// there is one, ended as soon as the broker answered. Never throws: one line, `OK: …` or `Failed: …`.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { describeFailure, failed, say, whereOf, words, type Words } from './failures.ts';

export interface Probe {
  url: string;
  options: IClientOptions;
  subscriptions: string[];
  /** The answer comes by then at the latest. */
  timeoutMs: number;
}

export function probeConnection(probe: Probe, describeSuccess: (where: string) => Words): Promise<string> {
  const where = whereOf(probe.url);
  return new Promise<string>((resolve) => {
    const startedAt = Date.now();
    let lastErr: unknown;
    let client: MqttClient | undefined;
    let done = false;
    const finish = (line: string) => {
      if (done) return;
      done = true;
      clearTimeout(guard);
      client?.end(true);
      resolve(line);
    };
    const guard = setTimeout(() => finish(failed(describeFailure(new Error('connack timeout'), where))), probe.timeoutMs);
    try {
      client = mqtt.connect(probe.url, probe.options);
    } catch (err) {
      finish(failed(describeFailure(err, where)));
      return;
    }
    const connection = client;
    connection.on('error', (err) => {
      lastErr = err;
    });
    connection.on('close', () => finish(failed(describeFailure(lastErr ?? new Error('Connection closed'), where))));
    connection.on('connect', () => {
      const ok = describeSuccess(where);
      const elapsed = Date.now() - startedAt;
      const success = say(words(`OK: ${ok.en} in ${elapsed} ms`, `成功：${ok.zh}，用时 ${elapsed} 毫秒`));
      if (probe.subscriptions.length === 0) return finish(success);
      connection.subscribe(probe.subscriptions, { qos: 1 }, (err, granted) => {
        if (err) return finish(failed(describeFailure(err, where)));
        const refused = granted?.filter((grant) => grant.qos >= 128).map((grant) => grant.topic) ?? [];
        if (refused.length > 0) {
          return finish(failed(words(`connected, but the broker refused the subscription to ${refused.join(', ')}`, `已连接，但服务器拒绝订阅 ${refused.join('、')}`)));
        }
        finish(success);
      });
    });
  });
}
