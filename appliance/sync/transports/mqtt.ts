// SYNC-4: an MQTT 3.1.1/5 broker as a target (EMQX, Mosquitto, HiveMQ…). Each frame becomes the
// documented envelope `{"v":1,"box":…,"records":[…]}` (appliance/contract/uplink.ts) published QoS 1
// on `topic_template` ({box}, {kind}, {sn}); with {sn} in the template a frame becomes one message
// per device, so a subscriber can follow one detector by topic. The connection, its backoff,
// keepalive and in-flight window are ./mqtt-link.ts. SYNC-5: with `cloud_commands` on, the command
// topic is subscribed and each JSON message goes to the onCommand handler (the uplink validates it).
import type { Logger } from '../../core/log.ts';
import type { MqttTarget, TransportState, UplinkFrame, UplinkRecord, UplinkTransport } from '../../contract/uplink.ts';
import { UplinkTransportError, safeUrl, say, words } from './failures.ts';
import { createMqttLink, type LinkTuning, type OutgoingMessage } from './mqtt-link.ts';

/** The {sn} topic level of records that belong to no one device (a box-wide gap, a system alarm). */
export const NO_DEVICE_TOPIC_LEVEL = '_'; // a detector's serial never starts with '_' (SN_PATTERN)
/** A message body stays under this (Aliyun and many hosted brokers stop at 256 KB): larger frames are split. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export interface MqttTransportContext {
  boxId: string;
  log: Logger;
  tuning?: LinkTuning;
}

export function defaultClientId(boxId: string): string {
  return `mcs-edge-${boxId}`;
}

export function renderTopic(template: string, values: { box: string; kind?: string; sn?: string }): string {
  return template
    .replaceAll('{box}', values.box)
    .replaceAll('{kind}', values.kind ?? '')
    .replaceAll('{sn}', values.sn ?? NO_DEVICE_TOPIC_LEVEL);
}

/**
 * Envelope bodies for records already serialised one by one: as many records per body as fit in
 * `maxBytes` (a single larger record still goes alone).
 */
export function envelopeBodies(box: string, serialised: string[], maxBytes = MAX_MESSAGE_BYTES): Buffer[] {
  const head = `{"v":1,"box":${JSON.stringify(box)},"records":[`;
  const tail = ']}';
  const bodies: Buffer[] = [];
  let parts: string[] = [];
  let size = head.length + tail.length;
  for (const record of serialised) {
    const bytes = Buffer.byteLength(record);
    if (parts.length > 0 && size + 1 + bytes > maxBytes) {
      bodies.push(Buffer.from(head + parts.join(',') + tail));
      parts = [];
      size = head.length + tail.length;
    }
    size += parts.length > 0 ? 1 + bytes : bytes; // the comma before all but the first
    parts.push(record);
  }
  if (parts.length > 0 || bodies.length === 0) bodies.push(Buffer.from(head + parts.join(',') + tail));
  return bodies;
}

/** The messages of one frame: one topic for the frame, or one per device when the template has {sn}. */
export function frameMessages(frame: UplinkFrame, box: string, template: string, maxBytes = MAX_MESSAGE_BYTES): OutgoingMessage[] {
  if (/[+#]/.test(template)) {
    throw new UplinkTransportError(say(words(`the topic template '${template}' contains a wildcard (+ or #)`, `主题模板 '${template}' 含有通配符（+ 或 #）`)));
  }
  const groups = new Map<string | null, UplinkRecord[]>();
  const perDevice = template.includes('{sn}');
  for (const record of frame.records) {
    const key = perDevice ? record.sn : null;
    const group = groups.get(key);
    if (group) group.push(record);
    else groups.set(key, [record]);
  }
  const messages: OutgoingMessage[] = [];
  for (const [sn, records] of groups) {
    const topic = renderTopic(template, { box, kind: frame.kind, sn: sn ?? undefined });
    const serialised = records.map((record) => JSON.stringify(record));
    for (const payload of envelopeBodies(box, serialised, maxBytes)) messages.push({ topic, payload });
  }
  return messages;
}

export function createMqttTransport(target: MqttTarget, context: MqttTransportContext): UplinkTransport {
  const log = context.log;
  const clientId = target.client_id || defaultClientId(context.boxId);
  const commandTopic = target.cloud_commands && target.command_topic ? renderTopic(target.command_topic, { box: context.boxId }) : null;
  const commandHandlers: Array<(command: unknown) => void> = [];

  const link = createMqttLink(
    {
      url: target.url,
      options: () => ({
        clientId,
        protocolVersion: target.protocol_version,
        username: target.username || undefined,
        password: target.password || undefined,
        ca: target.ca || undefined,
        cert: target.cert || undefined,
        key: target.key || undefined,
        rejectUnauthorized: true,
      }),
      keepaliveS: target.keepalive_s,
      inflight: target.inflight,
      subscriptions: commandTopic ? [commandTopic] : [],
      onMessage: (topic, payload) => {
        let command: unknown;
        try {
          command = JSON.parse(payload.toString('utf8'));
        } catch (err) {
          log.warn({ topic, bytes: payload.length, error: (err as Error).message }, 'cloud command is not JSON; ignored');
          return;
        }
        deliverCommand(command);
      },
    },
    log,
    context.tuning,
  );

  function deliverCommand(command: unknown): void {
    for (const handler of commandHandlers) {
      try {
        handler(command);
      } catch (err) {
        log.error({ err }, 'cloud command handler failed');
      }
    }
  }

  const tls = /^(mqtts|wss):/.test(target.url);
  const version = target.protocol_version === 5 ? 'MQTT 5' : 'MQTT 3.1.1';
  return {
    start: () => link.start(),
    state: (): TransportState => link.state(),
    async send(frame) {
      return link.publishAll(frameMessages(frame, context.boxId, target.topic_template));
    },
    onCommand(handler) {
      commandHandlers.push(handler);
    },
    onState(handler) {
      link.onState(handler);
    },
    test: () =>
      link.test(() =>
        words(
          `connected to ${safeUrl(target.url)} as ${clientId} (${version}${tls ? ', TLS' : ''}${target.cert ? ', client certificate' : ''})${commandTopic ? `, subscribed to ${commandTopic}` : ''}`,
          `已以 ${clientId} 连接到 ${safeUrl(target.url)}（${version}${tls ? '，TLS' : ''}${target.cert ? '，客户端证书' : ''}）${commandTopic ? `，已订阅 ${commandTopic}` : ''}`,
        ),
      ),
    close: () => link.close(),
  };
}
