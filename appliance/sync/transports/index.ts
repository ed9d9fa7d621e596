// SYNC-4: the transport of a configured target (appliance/contract/uplink.ts, UplinkTransport). The
// sender (../sender.ts) decides what to send and when; a transport only puts frames on the wire and
// says whether the target acknowledged them.
import type { Clock } from '../../contract/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { UplinkTarget, UplinkTransport } from '../../contract/uplink.ts';
import { createAliyunTransport } from './aliyun.ts';
import type { BackoffOptions } from './backoff.ts';
import { createHttpsTransport } from './https.ts';
import { createMqttTransport } from './mqtt.ts';
import type { LinkTuning } from './mqtt-link.ts';

export interface TransportContext {
  /** This box's name in topics, envelopes and headers. */
  boxId: string;
  log: Logger;
  /** The time of Aliyun's CONNECT signature and of X-MCS-Timestamp (default: the system clock). */
  clock?: Clock;
  /** Reconnect / retry pacing (default: from 1 s up to 60 s, full jitter). */
  backoff?: BackoffOptions;
  /** MQTT and Aliyun connection details (connect timeout, how long a connection must last to count as good, PUBACK timeout). */
  link?: Omit<LinkTuning, 'backoff'>;
}

export function createTransport(target: UplinkTarget, context: TransportContext): UplinkTransport {
  // Every line names its target (and stage) once, whether or not the caller's logger already does.
  const bound = context.log.bindings();
  const log = context.log.child({ ...(bound.stage ? {} : { stage: 'uplink' }), ...(bound.target ? {} : { target: target.id }), transport: target.kind });
  const tuning: LinkTuning = { ...context.link, backoff: context.backoff };
  switch (target.kind) {
    case 'mqtt':
      return createMqttTransport(target, { boxId: context.boxId, log, tuning });
    case 'aliyun':
      return createAliyunTransport(target, { log, clock: context.clock, tuning });
    case 'https':
      return createHttpsTransport(target, { boxId: context.boxId, log, clock: context.clock, backoff: context.backoff });
  }
}

export { UplinkTransportError } from './failures.ts';
export { createBackoff, type Backoff, type BackoffOptions } from './backoff.ts';
