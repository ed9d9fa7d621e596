// SYNC-4: what the Aliyun IoT Platform (阿里云物联网平台) expects on the wire, as pure functions:
// the MQTT CONNECT signature and the Alink JSON messages of a gateway (the box) and its sub-devices
// (the detectors). Sources, Aliyun's own documentation (in our words):
//  - "MQTT-TCP连接通信 / Establish MQTT connections over TCP" (help.aliyun.com/document_detail/73742):
//    mqttClientId = clientId + "|securemode=2|3,signmethod=…,timestamp=…|" (2: TLS, 3: plain TCP),
//    mqttUsername = deviceName + "&" + productKey, mqttPassword = hex HMAC keyed by the DeviceSecret
//    over the parameters clientId, deviceName, productKey, timestamp sorted by name, each name
//    followed by its value. Its worked example (hmacsha1) is test/sync/transports/aliyun.test.ts.
//  - "设备属性、事件、服务 / Device properties, events, and services" (help.aliyun.com/document_detail/89301):
//    the gateway's batch post `/sys/{pk}/{dn}/thing/event/property/pack/post` (at most 200
//    properties, 20 events and 20 sub-devices per message, one value per property), the history post
//    `/sys/{pk}/{dn}/thing/event/property/history/post` (params: an array of {identity, properties[],
//    events[]}), events `/sys/{pk}/{dn}/thing/event/{identifier}/post` ({value, time}), service calls
//    `/sys/{pk}/{dn}/thing/service/{identifier}` answered on `…_reply` with {id, code, data}. Message
//    ids are decimal strings 0..4294967295, unique per device and day; float/double values carry at
//    least one decimal place (10.0, not 10); booleans of a thing model are 0/1 integers.
import { createHmac } from 'node:crypto';
import type {
  AggregateRecord,
  AlarmRecord,
  CloudCommand,
  DeviceRecord,
  GapRecord,
  ReadingRecord,
  UplinkFrame,
  UplinkRecord,
} from '../../contract/uplink.ts';

export type AliyunSignMethod = 'hmacsha256' | 'hmacsha1';

export interface AliyunSignInput {
  productKey: string;
  deviceName: string;
  deviceSecret: string;
  /** The client's own id (we use `{productKey}.{deviceName}`, the console's default). */
  clientId: string;
  timestamp: number | string;
  tls: boolean;
  signMethod?: AliyunSignMethod;
}

export interface MqttCredentials {
  clientId: string;
  username: string;
  password: string;
}

/** The CONNECT fields of Aliyun's direct connection with a DeviceSecret (一机一密). */
export function aliyunMqttCredentials(input: AliyunSignInput): MqttCredentials {
  const method = input.signMethod ?? 'hmacsha256';
  const content = `clientId${input.clientId}deviceName${input.deviceName}productKey${input.productKey}timestamp${input.timestamp}`;
  const password = createHmac(method === 'hmacsha256' ? 'sha256' : 'sha1', input.deviceSecret).update(content).digest('hex');
  return {
    clientId: `${input.clientId}|securemode=${input.tls ? 2 : 3},signmethod=${method},timestamp=${input.timestamp}|`,
    username: `${input.deviceName}&${input.productKey}`,
    password,
  };
}

// --- Alink JSON ---------------------------------------------------------------------------------

/** A thing-model float/double: written with at least one decimal place. */
export class AlinkFloat {
  constructor(readonly value: number) {}
}

/** JSON.stringify, except that an AlinkFloat keeps a decimal point (25 → 25.0). */
export function alinkJson(value: unknown): string {
  if (value instanceof AlinkFloat) {
    const text = JSON.stringify(value.value);
    return /^-?\d+$/.test(text) ? `${text}.0` : text;
  }
  if (Array.isArray(value)) return `[${value.map(alinkJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value).filter(([, field]) => field !== undefined);
    return `{${fields.map(([key, field]) => `${JSON.stringify(key)}:${alinkJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const ALINK_LIMITS = { properties: 200, events: 20, devices: 20 } as const;

/** The thing-model event identifiers of the gateway (the box), one per record kind that is an event. */
export const ALINK_EVENTS = { alarm: 'gasAlarm', device: 'deviceState', gap: 'dataGap' } as const;

type Value = { value: unknown; time: number };
type Properties = Record<string, Value>;
const float = (n: number | null) => (n === null || !Number.isFinite(n) ? undefined : new AlinkFloat(n));
const int = (n: number | null) => (n === null || !Number.isFinite(n) ? undefined : Math.trunc(n));

function valued(time: number, fields: Record<string, unknown>): Properties {
  const properties: Properties = {};
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) properties[name] = { value, time };
  return properties;
}

/** A detector's reading as thing-model properties at the device's time. */
export function readingProperties(record: ReadingRecord): Properties {
  return valued(record.ts, {
    ppm: float(record.ppm),
    temp: float(record.temp),
    humi: float(record.humi),
    bat: int(record.bat),
    rssi: int(record.rssi),
    err: int(record.err),
    overrange: record.overrange ? 1 : 0,
  });
}

/** A 1-minute aggregate as properties at the bucket's start. */
export function aggregateProperties(record: AggregateRecord): Properties {
  return valued(record.ts, {
    ppm_min: float(record.min),
    ppm_max: float(record.max),
    ppm_avg: float(record.avg),
    ppm_count: int(record.n),
  });
}

const TIME_FIELDS = new Set(['at', 'from', 'to', 'ts', 'received_at']);
const FLOAT_FIELDS = new Set(['value', 'threshold', 'high_limit', 'high2_limit', 'low_limit']);

/**
 * An alarm, device or gap record as an event's output values: the record's own field names (`id`
 * as `event_id`), booleans as 0/1, times as the thing model's `date` (a string of UTC ms), no nulls.
 */
export function eventValue(record: AlarmRecord | DeviceRecord | GapRecord): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(record)) {
    if (name === 'kind' || name === 'box' || field === null || field === undefined) continue;
    const key = name === 'id' ? 'event_id' : name;
    if (typeof field === 'boolean') value[key] = field ? 1 : 0;
    else if (TIME_FIELDS.has(name) && typeof field === 'number') value[key] = String(field);
    else if (FLOAT_FIELDS.has(name) && typeof field === 'number') value[key] = new AlinkFloat(field);
    else value[key] = field;
  }
  return value;
}

export function eventTime(record: AlarmRecord | DeviceRecord | GapRecord): number {
  return record.kind === 'gap' ? record.to : record.at;
}

export interface AlinkMessage {
  topic: string;
  body: string;
}

export interface AlinkGateway {
  productKey: string;
  deviceName: string;
  /** The detectors' product key (sub-devices). */
  subProductKey: string;
  /** The next message id (decimal string). */
  nextId(): string;
}

const sys = (gateway: AlinkGateway) => `/sys/${gateway.productKey}/${gateway.deviceName}`;
const NO_REPLY = { ack: 0 }; // the PUBACK is the acknowledgement; no post_reply traffic

function propertiesOf(record: UplinkRecord): Properties | null {
  if (record.kind === 'reading') return readingProperties(record);
  if (record.kind === 'aggregate') return aggregateProperties(record);
  return null;
}

/** Live telemetry: pack posts of at most 20 sub-devices with one value per property each. */
function packPosts(gateway: AlinkGateway, records: Array<ReadingRecord | AggregateRecord>): AlinkMessage[] {
  // A device's n-th record of the frame goes into the n-th round: a message never holds one device twice.
  const rounds: Array<Array<{ sn: string; properties: Properties }>> = [];
  const seen = new Map<string, number>();
  for (const record of records) {
    const round = seen.get(record.sn) ?? 0;
    seen.set(record.sn, round + 1);
    (rounds[round] ??= []).push({ sn: record.sn, properties: propertiesOf(record)! });
  }
  const messages: AlinkMessage[] = [];
  for (const round of rounds) {
    let batch: typeof round = [];
    let count = 0;
    const flush = () => {
      if (batch.length === 0) return;
      const subDevices = batch.map((entry) => ({
        identity: { productKey: gateway.subProductKey, deviceName: entry.sn },
        properties: entry.properties,
      }));
      const body = { id: gateway.nextId(), version: '1.0', sys: NO_REPLY, params: { subDevices }, method: 'thing.event.property.pack.post' };
      messages.push({ topic: `${sys(gateway)}/thing/event/property/pack/post`, body: alinkJson(body) });
      batch = [];
      count = 0;
    };
    for (const entry of round) {
      const size = Object.keys(entry.properties).length;
      if (batch.length >= ALINK_LIMITS.devices || count + size > ALINK_LIMITS.properties) flush();
      batch.push(entry);
      count += size;
    }
    flush();
  }
  return messages;
}

interface HistoryEntry {
  identity: { productKey: string; deviceName: string };
  properties: Properties[];
  events: Array<Record<string, Value>>;
}

/** Backfill (frame.historical): history posts of at most 20 identities, 200 property values and 20 events. */
function historyPosts(gateway: AlinkGateway, records: UplinkRecord[]): AlinkMessage[] {
  const messages: AlinkMessage[] = [];
  let entries = new Map<string, HistoryEntry>();
  let properties = 0;
  let events = 0;
  const flush = () => {
    if (entries.size === 0) return;
    const params = [...entries.values()].map((entry) => ({
      identity: entry.identity,
      ...(entry.properties.length > 0 ? { properties: entry.properties } : {}),
      ...(entry.events.length > 0 ? { events: entry.events } : {}),
    }));
    const body = { id: gateway.nextId(), version: '1.0', sys: NO_REPLY, params, method: 'thing.event.property.history.post' };
    messages.push({ topic: `${sys(gateway)}/thing/event/property/history/post`, body: alinkJson(body) });
    entries = new Map();
    properties = 0;
    events = 0;
  };
  for (const record of records) {
    const values = propertiesOf(record);
    // Telemetry belongs to the detector (a sub-device); alarms, device changes and gaps are the gateway's events.
    const identity = values
      ? { productKey: gateway.subProductKey, deviceName: (record as ReadingRecord | AggregateRecord).sn }
      : { productKey: gateway.productKey, deviceName: gateway.deviceName };
    const key = `${identity.productKey}/${identity.deviceName}`;
    const size = values ? Object.keys(values).length : 0;
    const full =
      (!entries.has(key) && entries.size >= ALINK_LIMITS.devices) ||
      properties + size > ALINK_LIMITS.properties ||
      (!values && events + 1 > ALINK_LIMITS.events);
    if (full) flush();
    let entry = entries.get(key);
    if (!entry) entries.set(key, (entry = { identity, properties: [], events: [] }));
    if (values) {
      entry.properties.push(values);
      properties += size;
    } else {
      const event = record as AlarmRecord | DeviceRecord | GapRecord;
      entry.events.push({ [ALINK_EVENTS[event.kind]]: { value: eventValue(event), time: eventTime(event) } });
      events += 1;
    }
  }
  flush();
  return messages;
}

/** Live alarms, device changes and gaps: one event post each, in order. */
function eventPosts(gateway: AlinkGateway, records: Array<AlarmRecord | DeviceRecord | GapRecord>): AlinkMessage[] {
  return records.map((record) => {
    const identifier = ALINK_EVENTS[record.kind];
    const body = {
      id: gateway.nextId(),
      version: '1.0',
      sys: NO_REPLY,
      params: { value: eventValue(record), time: eventTime(record) },
      method: `thing.event.${identifier}.post`,
    };
    return { topic: `${sys(gateway)}/thing/event/${identifier}/post`, body: alinkJson(body) };
  });
}

/** The Alink messages of one frame (SYNC-2: backfill via the history post, live data via pack/event posts). */
export function alinkMessages(gateway: AlinkGateway, frame: UplinkFrame): AlinkMessage[] {
  if (frame.historical) return historyPosts(gateway, frame.records);
  const telemetry = frame.records.filter((record): record is ReadingRecord | AggregateRecord => record.kind === 'reading' || record.kind === 'aggregate');
  const events = frame.records.filter((record): record is AlarmRecord | DeviceRecord | GapRecord => record.kind !== 'reading' && record.kind !== 'aggregate');
  return [...packPosts(gateway, telemetry), ...eventPosts(gateway, events)];
}

// --- Service calls (SYNC-5) ---------------------------------------------------------------------

/** `/sys/{pk}/{dn}/thing/service/+`: the cloud's asynchronous service calls to the gateway. */
export function serviceTopic(productKey: string, deviceName: string): string {
  return `/sys/${productKey}/${deviceName}/thing/service/+`;
}

const list = (value: unknown): unknown[] | undefined =>
  Array.isArray(value)
    ? value
    : typeof value === 'string' && value.trim() !== ''
      ? value.split(',').map((part) => part.trim())
      : typeof value === 'number'
        ? [value]
        : undefined;
const number = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value);

/**
 * The contract's CloudCommand for the `ack` and `resend` services (a thing model may declare the
 * lists as arrays or as comma-separated text, the times as `date` strings); null for other
 * services. The uplink validates the result against CloudCommandSchema.
 */
export function serviceCommand(identifier: string, params: Record<string, unknown>): CloudCommand | null {
  if (identifier === 'ack') {
    return {
      cmd: 'ack',
      alarm_ids: (list(params.alarm_ids) ?? []).map(number) as number[],
      by: params.by as string,
      comment: typeof params.comment === 'string' ? params.comment : '',
    };
  }
  if (identifier === 'resend') {
    const sns = list(params.sns);
    return {
      cmd: 'resend',
      from: number(params.from) as number,
      to: number(params.to) as number,
      ...(sns ? { sns: sns as string[] } : {}),
    };
  }
  return null;
}
