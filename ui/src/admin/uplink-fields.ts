// Issue 17.7: the fields of a cloud sync target's form per kind (contract/uplink.ts), how each is
// edited, and the conversion between the form's text and the API's values. Labels are the
// `field.targets.*.<name>` texts, the same the API's problems are worded with.
import type { UplinkTarget, UplinkTargetKind } from '../../../appliance/contract/uplink.ts';
import type { TextKey } from '../i18n/i18n.ts';

export const TARGET_KINDS: UplinkTargetKind[] = ['mqtt', 'aliyun', 'https'];

export interface TargetField {
  name: string;
  /** text, a secret (password input; "******" when set), a number, a switch, a PEM text (secret when it is the key), or a choice. */
  input: 'text' | 'secret' | 'number' | 'bool' | 'pem' | 'pemSecret' | 'select';
  options?: { value: string | number; label: TextKey }[];
  placeholder?: string;
  wide?: boolean;
}

/** What every target has: how and how much it sends. */
export const COMMON_FIELDS: TargetField[] = [
  { name: 'name', input: 'text' },
  { name: 'telemetry', input: 'select', options: [{ value: 'raw', label: 'uplink.telemetry.raw' }, { value: 'aggregate', label: 'uplink.telemetry.aggregate' }] },
  { name: 'max_records_per_s', input: 'number' },
  { name: 'max_bytes_per_day', input: 'number' },
  { name: 'backlog_max_hours', input: 'number' },
  { name: 'backlog_max_readings', input: 'number' },
  { name: 'lag_alarm_s', input: 'number' },
  { name: 'enabled', input: 'bool' },
  { name: 'cloud_commands', input: 'bool' },
];

/** How each kind connects. */
export const KIND_FIELDS: Record<UplinkTargetKind, TargetField[]> = {
  mqtt: [
    { name: 'url', input: 'text', placeholder: 'mqtts://broker.example.com:8883' },
    { name: 'protocol_version', input: 'select', options: [{ value: 4, label: 'uplink.protocol.4' }, { value: 5, label: 'uplink.protocol.5' }] },
    { name: 'client_id', input: 'text', placeholder: 'mcs-edge-{box}' },
    { name: 'username', input: 'text' },
    { name: 'password', input: 'secret' },
    { name: 'topic_template', input: 'text', placeholder: 'mcs/{box}/{kind}' },
    { name: 'command_topic', input: 'text' },
    { name: 'inflight', input: 'number' },
    { name: 'keepalive_s', input: 'number' },
    { name: 'ca', input: 'pem', placeholder: '-----BEGIN CERTIFICATE-----', wide: true },
    { name: 'cert', input: 'pem', placeholder: '-----BEGIN CERTIFICATE-----', wide: true },
    { name: 'key', input: 'pemSecret', placeholder: '-----BEGIN PRIVATE KEY-----', wide: true },
  ],
  aliyun: [
    { name: 'product_key', input: 'text' },
    { name: 'device_name', input: 'text' },
    { name: 'device_secret', input: 'secret' },
    { name: 'region', input: 'text', placeholder: 'cn-shanghai' },
    { name: 'host', input: 'text', placeholder: '{product_key}.iot-as-mqtt.{region}.aliyuncs.com' },
    { name: 'sub_product_key', input: 'text' },
    { name: 'inflight', input: 'number' },
    { name: 'keepalive_s', input: 'number' },
    { name: 'tls', input: 'bool' },
    { name: 'ca', input: 'pem', placeholder: '-----BEGIN CERTIFICATE-----', wide: true },
  ],
  https: [
    { name: 'url', input: 'text', placeholder: 'https://platform.example.com/api/mcs', wide: true },
    { name: 'hmac_secret', input: 'secret' },
    { name: 'sm4_key', input: 'secret', placeholder: '0123456789abcdef0123456789abcdef' },
    { name: 'batch_records', input: 'number' },
    { name: 'timeout_s', input: 'number' },
    { name: 'inflight', input: 'number' },
    { name: 'ca', input: 'pem', placeholder: '-----BEGIN CERTIFICATE-----', wide: true },
  ],
};

export const fieldsOf = (kind: UplinkTargetKind): TargetField[] => [...KIND_FIELDS[kind], ...COMMON_FIELDS];

/** The form's values: text for inputs (numbers too, as typed), booleans for switches. */
export type TargetForm = Record<string, string | boolean>;

export function toForm(target: Record<string, unknown>): TargetForm {
  const form: TargetForm = { id: String(target.id ?? '') };
  for (const field of fieldsOf(target.kind as UplinkTargetKind)) {
    const value = target[field.name];
    form[field.name] = field.input === 'bool' ? value === true : value === undefined || value === null ? '' : String(value);
  }
  return form;
}

/**
 * The target the API is sent: the original (its other fields, e.g. paused, kept) with the form's
 * values; numbers as numbers ('' as null, which the API refuses by name rather than guessing).
 */
export function fromForm(original: Record<string, unknown>, form: TargetForm): UplinkTarget {
  const target: Record<string, unknown> = { ...original, id: String(form.id).trim() };
  for (const field of fieldsOf(original.kind as UplinkTargetKind)) {
    const value = form[field.name];
    if (field.input === 'bool') target[field.name] = value === true;
    else if (field.input === 'number' || (field.input === 'select' && typeof original[field.name] === 'number')) {
      target[field.name] = String(value).trim() === '' ? null : Number(value);
    } else target[field.name] = String(value);
  }
  return target as unknown as UplinkTarget;
}
