// DEV-1: the topic tree the detectors' firmware speaks. It must not change.
export const TOPIC_PREFIX = 'mcs';
export const BROADCAST_CMD_TOPIC = 'mcs/broadcast/cmd';

export type DeviceTopicKind = 'up' | 'status' | 'cmd';

export interface ParsedDeviceTopic {
  sn: string;
  kind: DeviceTopicKind;
}

const KINDS = new Set<string>(['up', 'status', 'cmd']);

/** `mcs/{sn}/{kind}` → its parts, or null for any other topic. */
export function parseDeviceTopic(topic: string): ParsedDeviceTopic | null {
  const first = topic.indexOf('/');
  const last = topic.lastIndexOf('/');
  if (first <= 0 || last === first) return null;
  if (topic.slice(0, first) !== TOPIC_PREFIX) return null;
  const sn = topic.slice(first + 1, last);
  const kind = topic.slice(last + 1);
  if (!isValidSn(sn) || !KINDS.has(kind)) return null;
  return { sn, kind: kind as DeviceTopicKind };
}

export const upTopic = (sn: string) => `mcs/${sn}/up`;
export const statusTopic = (sn: string) => `mcs/${sn}/status`;
export const cmdTopic = (sn: string) => `mcs/${sn}/cmd`;

/** MQTT username of a detector (DEV-5). */
export const deviceUsername = (sn: string) => `device_${sn}`;

export function snFromUsername(username: string | undefined): string | null {
  if (!username || !username.startsWith('device_')) return null;
  const sn = username.slice('device_'.length);
  return isValidSn(sn) ? sn : null;
}

/** Serial numbers as printed on the detectors, e.g. `MCS-A001-20251217` (seed §7.2): 1-32 chars. */
export const SN_PATTERN = '^(?!broadcast$)[A-Za-z0-9][A-Za-z0-9_.:-]{0,31}$'; // 'broadcast' is the all-devices topic
const SN_RE = new RegExp(SN_PATTERN);
export function isValidSn(sn: string): boolean {
  return SN_RE.test(sn);
}
