// Issue 16.6 (API-7) on upgrade: alarm settings saved before 16.6 hold the robots' keys (inside
// their URLs: WeCom `key=`, DingTalk `access_token=`, the Feishu hook id) and the webhook's header
// values in clear, and so do the audit entries of those saves. At start, before the writer and
// the API open, the settings are sealed and the audit entries masked — with SQLite's
// secure_delete on (freed bytes are overwritten with zeros) and the WAL truncated afterwards, so
// the clear text stays in neither the database file, nor its -wal file, nor the next backup (the
// SQLite backup copies free pages too). Sealing is not a migration because SQL has no key; this
// runs at every start and finds nothing to do once done.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../core/log.ts';
import { redact, sealSecrets, type SecretBox } from '../core/secrets.ts';
import type { Db } from '../storage/db.ts';
import { CHANNELS, isChannelKind } from './channels/index.ts';

const KEY = 'alarm';
const AUDIT_ACTION = 'config.alarm';

type Channels = Record<string, { settings?: Record<string, unknown> } | undefined>;
type WithChannels = { channels?: Channels };

export interface SealedAtRest {
  /** The stored alarm settings held a secret in clear and were sealed. */
  settings: boolean;
  /** Audit entries whose channel settings showed a secret and were masked. */
  auditEntries: number;
}

export function sealChannelSecretsAtRest(db: Db, box: SecretBox, log?: Logger): SealedAtRest {
  const row = db.prepare<[string], { value: string }>('SELECT value FROM system_config WHERE key = ?').get(KEY);
  const stored = row ? (JSON.parse(row.value) as WithChannels) : null;
  const sealed = stored ? mapChannels(stored, (kind, settings) => sealSecrets(box, settings, CHANNELS[kind])) : null;

  const entries = db
    .prepare<[string], { id: number; before: string | null; after: string | null }>('SELECT id, before, after FROM audit_log WHERE action = ?')
    .all(AUDIT_ACTION);
  const masked: { id: number; before: string | null; after: string | null }[] = [];
  const mask = (text: string | null) => {
    if (text === null) return null;
    const next = mapChannels(JSON.parse(text) as WithChannels, (kind, settings) =>
      // redact() shows an unset secret as null; an entry that did not name it stays as it was.
      Object.fromEntries(Object.entries(redact(settings, CHANNELS[kind])).filter(([field]) => field in settings)),
    );
    return next ? JSON.stringify(next) : text;
  };
  for (const entry of entries) {
    const before = mask(entry.before);
    const after = mask(entry.after);
    if (before !== entry.before || after !== entry.after) masked.push({ id: entry.id, before, after });
  }

  const result = { settings: sealed !== null, auditEntries: masked.length };
  if (!result.settings && !result.auditEntries) return result;
  db.pragma('secure_delete = ON');
  try {
    db.transaction(() => {
      // updated_at stays: the settings mean the same, sealed.
      if (sealed) db.prepare('UPDATE system_config SET value = ? WHERE key = ?').run(JSON.stringify(sealed), KEY);
      const update = db.prepare('UPDATE audit_log SET before = @before, after = @after WHERE id = @id');
      for (const entry of masked) update.run(entry);
    }).immediate();
  } finally {
    db.pragma('secure_delete = OFF');
  }
  // The older versions of those pages are still in the WAL until it is written over: copy the
  // WAL into the database and cut it to zero bytes (no other connection is open yet).
  const [checkpoint] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
  // A warning: backups made before this start still hold the keys in clear, only new keys help.
  log?.warn(
    { ...result, walTruncated: checkpoint?.busy === 0 },
    'notification keys an older version stored in clear are now sealed (issue 16.6); backups made before still hold them: ' +
      'replace the robot keys and webhook credentials / 旧版本明文保存的通知密钥已加密；此前的备份中仍有明文，请更换机器人密钥和 webhook 凭据',
  );
  return result;
}

/** A copy with each known channel's settings mapped, or null when nothing changed. */
function mapChannels<T extends WithChannels>(
  value: T,
  map: (kind: keyof typeof CHANNELS, settings: Record<string, unknown>) => Record<string, unknown>,
): T | null {
  if (typeof value !== 'object' || value === null || typeof value.channels !== 'object' || value.channels === null) return null;
  let changed = false;
  const channels: Channels = {};
  for (const [kind, entry] of Object.entries(value.channels)) {
    channels[kind] = entry;
    if (!isChannelKind(kind) || typeof entry?.settings !== 'object' || entry.settings === null) continue;
    const settings = map(kind, entry.settings);
    if (!isDeepStrictEqual(settings, entry.settings)) {
      channels[kind] = { ...entry, settings };
      changed = true;
    }
  }
  return changed ? { ...value, channels } : null;
}
