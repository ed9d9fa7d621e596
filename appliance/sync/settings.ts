// Issue 17.4 / 17.7 (SYNC-4, API-7): the uplink's settings in system_config (key `uplink`): the
// box id and the targets, each with its own sealed secrets. Off by default — no target, nothing
// leaves the box. Modelled on the storage and alarm-channel settings:
// - secrets (UPLINK_SECRET_FIELDS) are sealed at rest (AES-256-GCM, core/secrets.ts) and shown as
//   "******"; a "******" sent back keeps the stored secret only for the same target (same id and
//   kind) at the same address (issue 16.6: a secret is never sent to an address the admin did not
//   type it for — someone holding an admin session could otherwise point a target at their own
//   server and receive the broker password or the client key);
// - invalid input is refused as a whole (70001) listing every problem as `/path: words`, which
//   the API turns into structured problems the UI says in both languages (api/validation.ts);
// - a stored value that cannot be read (edited by hand, sealed under another key file) leaves the
//   uplink off with an error in the log; it never stops the appliance.
import { createHash, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { Type, type TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  AliyunTargetSchema, DEFAULT_UPLINK_SETTINGS, HttpsTargetSchema, MqttTargetSchema, UPLINK_CONFIG_KEY, UPLINK_SECRET_FIELDS, UplinkSettingsSchema,
  type UplinkSettings, type UplinkTarget, type UplinkTargetKind,
} from '../contract/uplink.ts';
import type { Clock } from '../core/clock.ts';
import { AppError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { openSecrets, REDACTED, sealSecrets, type SecretBox } from '../core/secrets.ts';
import type { ConfigRepository } from '../storage/config.ts';

export const TARGET_SCHEMAS: Record<UplinkTargetKind, TObject> = { mqtt: MqttTargetSchema, aliyun: AliyunTargetSchema, https: HttpsTargetSchema };
export const TARGET_KINDS = Object.keys(TARGET_SCHEMAS) as UplinkTargetKind[];
/** When no machine id can be read, the box id made up once and kept (stable across restarts). */
export const GENERATED_BOX_ID_KEY = 'uplink_box_id';

/** The secret fields a target of this kind has. */
export const secretFieldsOf = (kind: UplinkTargetKind): string[] =>
  UPLINK_SECRET_FIELDS.filter((field) => field in TARGET_SCHEMAS[kind].properties);

/**
 * The problems this store finds beyond the schema, worded once: api/validation.ts knows each
 * sentence and gives the UI its rule, so it is said in the user's language with the field named.
 */
export const UPLINK_PROBLEM_WORDS = {
  kind: `must be one of ${TARGET_KINDS.map((kind) => JSON.stringify(kind)).join(', ')}`,
  duplicate: 'is used by another target',
  retype: 'type it again: a stored secret is kept only for the same target at the same address',
  certificate: 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)',
  privateKey: 'must be a PEM private key without a passphrase (-----BEGIN PRIVATE KEY-----)',
  keyPair: 'does not belong to the client certificate',
  requires: (other: string) => `is required with ${other}`,
  placeholders: (allowed: string[]) => `may use only the placeholders ${allowed.join(', ')}`,
  topicChars: 'must not contain the MQTT wildcards + or #, nor start with $',
  address: 'is not a valid address (scheme://host:port)',
};

/** The top level; each target is checked against its own kind's schema (a union explains nothing). */
const TopSchema = Type.Object(
  { box_id: UplinkSettingsSchema.properties.box_id, targets: Type.Array(Type.Unknown(), { maxItems: UplinkSettingsSchema.properties.targets.maxItems, default: [] }) },
  { additionalProperties: false },
);

export interface UplinkSettingsDeps {
  configRepo: ConfigRepository;
  /** The box that seals the targets' secrets (the data dir's key file). */
  secrets: SecretBox;
  /** LIC-1's machine id (/etc/machine-id): the box id is derived from it unless set. */
  machineId: string | (() => string | null | undefined);
  clock: Clock;
  log: Logger;
}

export function createUplinkSettings({ configRepo, secrets, machineId, clock, log }: UplinkSettingsDeps) {
  let cached: { at: number; settings: UplinkSettings; readable: boolean } | null = null;
  let derivedBoxId: string | null = null;

  /** The stored settings with secrets in clear and defaults applied; defaults (uplink off) when unreadable. */
  function read(): { settings: UplinkSettings; readable: boolean } {
    const at = configRepo.updatedAt(UPLINK_CONFIG_KEY);
    if (cached && cached.at === at) return cached;
    let settings = DEFAULT_UPLINK_SETTINGS;
    let readable = true;
    try {
      const stored = configRepo.get<unknown>(UPLINK_CONFIG_KEY);
      if (stored !== undefined) settings = openStored(stored);
    } catch (err) {
      readable = false;
      log.error(
        { err, key: UPLINK_CONFIG_KEY },
        'the stored cloud sync settings cannot be read: cloud sync stays off until they are saved again (Admin → System → Cloud sync) / ' +
          '无法读取已保存的云端同步设置：在重新保存之前云端同步保持关闭（管理 → 系统 → 云端同步）',
      );
    }
    cached = { at, settings: structuredClone(settings), readable };
    return cached;
  }

  function openStored(stored: unknown): UplinkSettings {
    const withDefaults = Value.Default(TopSchema, structuredClone(stored)) as { box_id: string; targets: unknown[] };
    const problems = [...Value.Errors(TopSchema, withDefaults)].map((e) => `${e.path || '/'}: ${e.message}`);
    const targets = withDefaults.targets.map((raw, i) => {
      const kind = (raw as { kind?: unknown })?.kind as UplinkTargetKind;
      const schema = TARGET_SCHEMAS[kind];
      if (!schema) {
        problems.push(`/targets/${i}/kind: ${UPLINK_PROBLEM_WORDS.kind}`);
        return raw as UplinkTarget;
      }
      // Opened first (a sealed value does not have its field's form); throws for one sealed under another key.
      const target = openSecrets(secrets, Value.Default(schema, structuredClone(raw)) as UplinkTarget, secretFieldsOf(kind));
      problems.push(...[...Value.Errors(schema, target)].map((e) => `/targets/${i}${e.path}: ${e.message}`));
      return target;
    });
    if (problems.length) throw new Error(`invalid stored cloud sync settings: ${problems.join('; ')}`);
    return { box_id: withDefaults.box_id, targets };
  }

  /** The settings with secrets in clear, for the uplink (a copy: callers may keep it). */
  const load = (): UplinkSettings => structuredClone(read().settings);

  /** For the API: each secret that is set as "******", one not set as ''. */
  function redacted(): UplinkSettings {
    const { settings } = read();
    return { ...settings, targets: settings.targets.map(redactTarget) };
  }

  /**
   * Checks a whole settings object (70001 listing every problem): each target against its kind's
   * schema, ids unique, PEM texts parsed, topics checked, "******" restored (or refused) from the
   * stored target. Returns the settings with secrets in clear; stores nothing.
   */
  function validate(input: unknown): UplinkSettings {
    const problems: string[] = [];
    const top = Value.Default(TopSchema, structuredClone(isRecord(input) ? input : {})) as { box_id: string; targets: unknown[] };
    if (!isRecord(input)) problems.push('/: Expected object');
    problems.push(...firstPerPath([...Value.Errors(TopSchema, top)].map((e) => [e.path, e.message])).map(([path, words]) => `${path || '/'}: ${words}`));
    const stored = read().settings.targets;
    const targets = (Array.isArray(top.targets) ? top.targets : []).map((raw, i) => {
      const checked = checkTarget(raw, `/targets/${i}`, stored);
      problems.push(...checked.problems);
      return checked.target;
    });
    const seen = new Set<string>();
    targets.forEach((target, i) => {
      if (!target || typeof target.id !== 'string') return;
      if (seen.has(target.id)) problems.push(`/targets/${i}/id: ${UPLINK_PROBLEM_WORDS.duplicate}`);
      seen.add(target.id);
    });
    if (problems.length) refuse(problems);
    return { box_id: top.box_id, targets: targets as UplinkTarget[] };
  }

  /** The unsaved form of one target (the admin's test button): checked, "******" filled from the stored one. */
  function resolveTarget(input: unknown): UplinkTarget {
    const { target, problems } = checkTarget(input, '', read().settings.targets);
    if (problems.length || !target) refuse(problems);
    return target!;
  }

  function store(settings: UplinkSettings): void {
    const sealed = { ...settings, targets: settings.targets.map((t) => sealSecrets(secrets, t, secretFieldsOf(t.kind))) };
    configRepo.set(UPLINK_CONFIG_KEY, sealed, clock.now());
    cached = null; // a save within the same millisecond as the last one must not hit the cache
  }

  return {
    load,
    redacted,
    validate,
    resolveTarget,
    /** PUT /api/config/uplink: validates, seals the secrets, stores; returns the redacted result. */
    save(input: unknown): UplinkSettings {
      store(validate(input));
      return redacted();
    },
    /** An operator paused or resumed a target: kept in its settings (it stays paused after a restart); false: no such target. */
    setPaused(id: string, paused: boolean): boolean {
      const { settings, readable } = read();
      const target = settings.targets.find((t) => t.id === id);
      if (!target || !readable) return false;
      if (target.paused !== paused) store({ ...settings, targets: settings.targets.map((t) => (t.id === id ? { ...t, paused } : t)) });
      return true;
    },
    /**
     * For the audit log (API-5): the targets keyed by id, so a change reads `targets.emqx.url:
     * old → new`; secrets as "******", PEM texts as what they are (subject, expiry, fingerprint).
     */
    auditView(): Record<string, unknown> {
      const { box_id, targets } = redacted();
      return { box_id, targets: Object.fromEntries(targets.map(({ id, ...rest }) => [id, describePems(rest)])) };
    },
    /**
     * This box's name in topics and event ids (SYNC-1): the one set in the settings, else derived
     * from the machine id (`box-` and 12 hex digits of its SHA-256, so the id itself is not
     * published), else one made up once and kept in system_config.
     */
    boxId(): string {
      const set = read().settings.box_id;
      if (set) return set;
      return (derivedBoxId ??= derivedId()); // the machine id does not change while running: read once
    },
  };

  function derivedId(): string {
    const machine = (typeof machineId === 'function' ? machineId() : machineId)?.trim();
    if (machine) return `box-${createHash('sha256').update(machine).digest('hex').slice(0, 12)}`;
    const kept = configRepo.get<string>(GENERATED_BOX_ID_KEY);
    if (typeof kept === 'string' && kept) return kept;
    const made = `box-${randomBytes(6).toString('hex')}`;
    configRepo.set(GENERATED_BOX_ID_KEY, made, clock.now());
    log.warn({ box_id: made }, 'no machine id to derive the cloud sync box id from: a random one is kept instead / 无机器码，云端同步使用随机生成并保存的箱体编号');
    return made;
  }
}
export type UplinkSettingsStore = ReturnType<typeof createUplinkSettings>;

function refuse(problems: string[]): never {
  throw new AppError('UPLINK_CONFIG_INVALID', problems, `invalid cloud sync settings: ${problems.join('; ')}`);
}

/** One target as the API shows it: secrets "******" when set, '' when not. */
function redactTarget(target: UplinkTarget): UplinkTarget {
  const copy = { ...target } as Record<string, unknown>;
  for (const field of secretFieldsOf(target.kind)) copy[field] = copy[field] ? REDACTED : '';
  return copy as UplinkTarget;
}

/**
 * One target from the form or API: defaults of its kind, "******" restored from the stored target
 * of the same id, kind and address, then the schema and the checks it cannot express.
 */
function checkTarget(raw: unknown, at: string, stored: UplinkTarget[]): { target: UplinkTarget | null; problems: string[] } {
  if (!isRecord(raw)) return { target: null, problems: [`${at || '/'}: Expected object`] };
  const kind = raw.kind as UplinkTargetKind;
  const schema = TARGET_SCHEMAS[kind];
  if (typeof kind !== 'string' || !schema) return { target: null, problems: [`${at}/kind: ${UPLINK_PROBLEM_WORDS.kind}`] };
  const target = Value.Default(schema, structuredClone(raw)) as UplinkTarget & Record<string, unknown>;
  const found: [string, string][] = [];

  // Issue 16.6: "******" means "keep the stored secret" — only for this very target at this very address.
  const previous = stored.find((s) => s.id === target.id && s.kind === target.kind) as (UplinkTarget & Record<string, unknown>) | undefined;
  for (const field of secretFieldsOf(kind)) {
    if (target[field] !== REDACTED) continue;
    if (previous && addressOf(previous) === addressOf(target)) target[field] = previous[field];
    else found.push([`/${field}`, UPLINK_PROBLEM_WORDS.retype]);
  }
  found.push(...[...Value.Errors(schema, target)].map((e): [string, string] => [e.path, e.message]));
  if (!found.length) found.push(...targetRules(target));
  return { target, problems: firstPerPath(found).map(([path, words]) => `${at}${path}: ${words}`) };
}

/** What JSON Schema cannot say: TLS texts that parse, a key that fits its certificate, topics, addresses. */
function targetRules(target: UplinkTarget): [string, string][] {
  const found: [string, string][] = [];
  if (target.kind === 'mqtt' || target.kind === 'https') {
    if (!endpointOf(target.url)) found.push(['/url', UPLINK_PROBLEM_WORDS.address]);
  }
  if (target.ca && !certificatesIn(target.ca)) found.push(['/ca', UPLINK_PROBLEM_WORDS.certificate]);
  if (target.kind === 'mqtt') {
    const cert = target.cert ? certificatesIn(target.cert) : [];
    if (!cert) found.push(['/cert', UPLINK_PROBLEM_WORDS.certificate]);
    const key = target.key ? privateKeyOf(target.key) : null;
    if (target.key && !key) found.push(['/key', UPLINK_PROBLEM_WORDS.privateKey]);
    if (target.cert && !target.key) found.push(['/key', UPLINK_PROBLEM_WORDS.requires('cert')]);
    if (target.key && !target.cert) found.push(['/cert', UPLINK_PROBLEM_WORDS.requires('key')]);
    if (cert?.length && key && !cert[0].checkPrivateKey(key)) found.push(['/key', UPLINK_PROBLEM_WORDS.keyPair]);
    found.push(...topicProblems('/topic_template', target.topic_template, ['{box}', '{kind}', '{sn}']));
    found.push(...topicProblems('/command_topic', target.command_topic, ['{box}']));
  }
  return found;
}

/** A topic template: the placeholders it may use, no wildcards (it is published to), not a `$SYS`-like topic. */
function topicProblems(path: string, template: string, allowed: string[]): [string, string][] {
  if (!template) return [];
  const found: [string, string][] = [];
  const placeholders = template.match(/\{[^}]*\}/g) ?? [];
  if (placeholders.some((p) => !allowed.includes(p)) || /[{}]/.test(template.replace(/\{[^}]*\}/g, ''))) {
    found.push([path, UPLINK_PROBLEM_WORDS.placeholders(allowed)]);
  }
  if (/[+#]/.test(template) || template.startsWith('$')) found.push([path, UPLINK_PROBLEM_WORDS.topicChars]);
  return found;
}

/** Where a target's secrets go: scheme, host and port (for Aliyun the endpoint and the device the secret belongs to). */
export function addressOf(target: Partial<UplinkTarget> & Record<string, unknown>): string {
  if (target.kind === 'aliyun') {
    const host = String(target.host || `${String(target.product_key ?? '')}.iot-as-mqtt.${String(target.region ?? '')}.aliyuncs.com`).toLowerCase();
    return `aliyun|${host}|${String(target.product_key ?? '')}|${String(target.device_name ?? '')}`;
  }
  return `${String(target.kind)}|${endpointOf(typeof target.url === 'string' ? target.url : '') ?? String(target.url)}`;
}

/** scheme://host:port of an address (default ports filled in), or null when it has no host. */
function endpointOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (!parsed.hostname) return null;
    const defaults: Record<string, string> = { 'mqtt:': '1883', 'mqtts:': '8883', 'ws:': '80', 'wss:': '443', 'http:': '80', 'https:': '443' };
    return `${parsed.protocol}//${parsed.hostname.toLowerCase()}:${parsed.port || defaults[parsed.protocol] || ''}`;
  } catch {
    return null;
  }
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM text (a CA file may hold a chain); null when there is none or one does not parse. */
function certificatesIn(text: string): X509Certificate[] | null {
  const blocks = text.match(CERTIFICATE_BLOCK);
  if (!blocks) return null;
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch {
    return null;
  }
}

function privateKeyOf(text: string) {
  try {
    return createPrivateKey({ key: text, format: 'pem' });
  } catch {
    return null; // not PEM, or encrypted: the transport has no passphrase to open it with
  }
}

/** PEM texts in the audit: what they are, not the whole text. */
function describePems(target: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...target };
  for (const field of ['ca', 'cert']) {
    const text = copy[field];
    if (typeof text !== 'string' || !text) continue;
    const certs = certificatesIn(text);
    copy[field] = certs
      ? certs.map((c) => `${c.subject.replace(/\n/g, ', ')} (until ${new Date(c.validTo).toISOString().slice(0, 10)}, sha256 ${c.fingerprint256.replace(/:/g, '').slice(0, 16).toLowerCase()})`).join('; ')
      : `sha256 ${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  }
  return copy;
}

/** The first problem at each path (it says the most); the order kept. */
function firstPerPath(found: [string, string][]): [string, string][] {
  const seen = new Set<string>();
  return found.filter(([path]) => (seen.has(path) ? false : (seen.add(path), true)));
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
