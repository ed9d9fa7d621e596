export const m005_users_audit = {
  version: 5,
  name: 'users, kiosk tokens and the audit log',
  sql: /* sql */ `
-- API-3: people who log in to the admin UI, with a role; passwords as scrypt hashes.
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
  password_hash TEXT NOT NULL,
  must_change_password INTEGER NOT NULL DEFAULT 0,
  enabled INTEGER NOT NULL DEFAULT 1,
  -- bumped by a password change, a role change or disabling: tokens issued before stop working
  token_version INTEGER NOT NULL DEFAULT 0,
  last_login_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- API-3: long-lived viewer tokens for kiosk screens; revocable, shown once when created.
CREATE TABLE kiosk_tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);

-- API-5: every change, who made it, from where, and what it was before and after.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  username TEXT NOT NULL,
  ip TEXT,
  action TEXT NOT NULL,          -- e.g. device.update, alarm.ack, config.alarm, user.create
  target TEXT,                   -- the device serial, alarm id, user name, config key
  before TEXT,                   -- JSON, secrets redacted
  after TEXT                     -- JSON, secrets redacted
);
CREATE INDEX audit_by_time ON audit_log (at);
CREATE INDEX audit_by_target ON audit_log (target, at);
`,
};
