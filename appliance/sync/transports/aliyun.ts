// SYNC-4: Aliyun IoT Platform (阿里云物联网平台) as a target. The box is a gateway device and its
// detectors are sub-devices: every CONNECT is signed with the DeviceSecret (HMAC-SHA256, the time of
// the attempt), live telemetry goes out as the gateway's batch property posts, backfill as history
// posts, alarms / device changes / gaps as the gateway's thing events (./alink.ts says which topics and
// cites Aliyun's documentation). QoS 1: the PUBACK is the acknowledgement (the Alink replies are
// switched off with sys.ack = 0). SYNC-5: with cloud_commands on, the `ack` and `resend` service
// calls become CloudCommands and are answered on the service's `_reply` topic.
import type { Clock } from '../../contract/clock.ts';
import type { Logger } from '../../core/log.ts';
import { Value } from '@sinclair/typebox/value';
import { CloudAckCommandSchema, CloudResendCommandSchema, type AliyunTarget, type UplinkTransport } from '../../contract/uplink.ts';
import { aliyunMqttCredentials, alinkMessages, serviceCommand, serviceTopic, type AlinkGateway } from './alink.ts';
import { words } from './failures.ts';
import { createMqttLink, type LinkTuning } from './mqtt-link.ts';

export interface AliyunTransportContext {
  log: Logger;
  clock?: Clock;
  tuning?: LinkTuning;
}

/** `host[:port]` of the target, the public instance's endpoint when `host` is empty. Aliyun listens on 1883 with and without TLS. */
export function aliyunEndpoint(target: Pick<AliyunTarget, 'host' | 'product_key' | 'region'>): { host: string; port: number } {
  const configured = target.host.trim() || `${target.product_key}.iot-as-mqtt.${target.region}.aliyuncs.com`;
  const match = /^(.*?)(?::(\d+))?$/.exec(configured)!;
  return { host: match[1], port: match[2] ? Number(match[2]) : 1883 };
}

/** Alink message ids: decimal strings 0..4294967295, unique per device and day (a counter from a random start). */
function messageIds(): () => string {
  let next = Math.floor(Math.random() * 0x1_0000_0000);
  return () => {
    next = (next + 1) % 0x1_0000_0000;
    return String(next);
  };
}

export function createAliyunTransport(target: AliyunTarget, context: AliyunTransportContext): UplinkTransport {
  const log = context.log;
  const now = () => context.clock?.now() ?? Date.now();
  const endpoint = aliyunEndpoint(target);
  const url = `${target.tls ? 'mqtts' : 'mqtt'}://${endpoint.host}:${endpoint.port}`;
  const clientId = `${target.product_key}.${target.device_name}`;
  const gateway: AlinkGateway = {
    productKey: target.product_key,
    deviceName: target.device_name,
    subProductKey: target.sub_product_key || target.product_key,
    nextId: messageIds(),
  };
  const services = target.cloud_commands ? serviceTopic(target.product_key, target.device_name) : null;
  const commandHandlers: Array<(command: unknown) => void> = [];

  const link = createMqttLink(
    {
      url,
      options: () => {
        const signed = aliyunMqttCredentials({
          productKey: target.product_key,
          deviceName: target.device_name,
          deviceSecret: target.device_secret,
          clientId,
          timestamp: now(),
          tls: target.tls,
        });
        return { ...signed, protocolVersion: 4, ca: target.ca || undefined, rejectUnauthorized: true };
      },
      keepaliveS: target.keepalive_s,
      inflight: target.inflight,
      subscriptions: services ? [services] : [],
      onMessage: (topic, payload) => onServiceCall(topic, payload),
    },
    log,
    context.tuning,
  );

  function reply(topic: string, id: unknown, code: number, message?: string): void {
    const body = { id: typeof id === 'string' || typeof id === 'number' ? String(id) : '0', code, data: {}, ...(message ? { message } : {}) };
    link.publishReply(`${topic}_reply`, Buffer.from(JSON.stringify(body)));
  }

  function onServiceCall(topic: string, payload: Buffer): void {
    if (topic.endsWith('_reply')) return;
    const identifier = topic.slice(topic.lastIndexOf('/') + 1);
    let call: { id?: unknown; params?: unknown };
    try {
      call = JSON.parse(payload.toString('utf8')) as typeof call;
    } catch (err) {
      log.warn({ topic, error: (err as Error).message }, 'cloud service call is not JSON; ignored');
      return;
    }
    const params = call && typeof call.params === 'object' && call.params !== null ? (call.params as Record<string, unknown>) : {};
    const command = serviceCommand(identifier, params);
    if (!command) {
      log.warn({ service: identifier }, 'cloud service call not supported; answered 460');
      reply(topic, call?.id, 460, `service ${identifier} is not supported (ack, resend)`);
      return;
    }
    const schema = command.cmd === 'ack' ? CloudAckCommandSchema : CloudResendCommandSchema;
    if (!Value.Check(schema, command)) {
      // 460: Aliyun's "request parameter error"; the cloud learns at once that nothing will happen.
      const problems = [...Value.Errors(schema, command)].slice(0, 3).map((error) => `${error.path || '/'} ${error.message}`);
      log.warn({ service: identifier, problems }, 'cloud service call has invalid parameters; answered 460');
      reply(topic, call?.id, 460, `invalid parameters: ${problems.join('; ')}`);
      return;
    }
    for (const handler of commandHandlers) {
      try {
        handler(command);
      } catch (err) {
        log.error({ err }, 'cloud command handler failed');
      }
    }
    reply(topic, call?.id, 200);
  }

  return {
    start: () => link.start(),
    state: () => link.state(),
    async send(frame) {
      const messages = alinkMessages(gateway, frame).map((message) => ({ topic: message.topic, payload: Buffer.from(message.body) }));
      return link.publishAll(messages);
    },
    onCommand(handler) {
      commandHandlers.push(handler);
    },
    onState(handler) {
      link.onState(handler);
    },
    test: () =>
      link.test((where) =>
        words(
          `signed in to Aliyun IoT at ${where} as gateway ${target.device_name} of product ${target.product_key}${target.tls ? ' (TLS)' : ' (no TLS)'}${services ? ', subscribed to its services' : ''}`,
          `已以产品 ${target.product_key} 的网关 ${target.device_name} 登录阿里云物联网平台 ${where}${target.tls ? '（TLS）' : '（未加密）'}${services ? '，已订阅服务调用' : ''}`,
        ),
      ),
    close: () => link.close(),
  };
}
