// Issue 16.10/16.11 through the API: refused input is listed as structured problems (field, rule,
// limit) with a readable English sentence and no regular expression; logins, failed logins and
// lock-outs are audited without passwords and without one row per guess; the floor plan is served
// to a short-lived signed URL, never to a token in the query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../appliance/core/clock.ts';
import { createLoginAudit, MAX_ENTRIES_PER_WINDOW } from '../../appliance/users/login-audit.ts';
import type { NewAuditEntry } from '../../appliance/storage/audit.ts';
import { apiForTheseTests } from '../helpers/api.ts';

const api = apiForTheseTests();

const REGEX_LIKE = /\^|\(\?!|\[A-Z|\$'/;

test('a refused serial number names the field and says what is allowed, in words, with the rule for the UI', async () => {
  const response = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: 'broadcast' } });
  assert.equal(response.status, 400);
  assert.equal(response.body.code, 40004);
  const [problem] = response.body.detail;
  assert.equal(problem.in, 'body');
  assert.equal(problem.field, 'sn');
  assert.equal(problem.path, '/sn');
  assert.equal(problem.rule, 'pattern');
  assert.equal(problem.form, 'serial');
  assert.match(problem.message, /^sn: must be 1 to 32 letters, digits/);
  assert.doesNotMatch(response.body.message, REGEX_LIKE, 'no regular expression in what people read');
  assert.match(response.body.message, /^invalid request: sn: must be 1 to 32 letters/);
});

test('each rule comes with its limit: types, bounds, unknown fields, required fields, lists of allowed values', async () => {
  const device = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: 'VAL-1', high_limit: -5, range_max: 'big', colour: 'red' } });
  assert.equal(device.status, 400);
  const byField = Object.fromEntries(device.body.detail.map((p: { field: string }) => [p.field, p]));
  assert.deepEqual({ rule: byField.high_limit.rule, limit: byField.high_limit.limit, or_empty: byField.high_limit.or_empty }, { rule: 'minimum', limit: 0, or_empty: true });
  assert.match(byField.high_limit.message, /high_limit: must be 0 or more, or empty/);
  assert.deepEqual({ rule: byField.range_max.rule, limit: byField.range_max.limit }, { rule: 'type', limit: 'number' });
  assert.equal(byField.colour.rule, 'additional');

  const user = await api.call('POST', '/api/users', { token: api.tokens.admin, body: { role: 'boss', password: 'short' } });
  assert.equal(user.status, 400);
  const problems = Object.fromEntries(user.body.detail.map((p: { field: string }) => [p.field, p]));
  assert.equal(problems.username.rule, 'required');
  assert.deepEqual({ rule: problems.role.rule, limit: problems.role.limit }, { rule: 'enum', limit: ['viewer', 'operator', 'admin'] });
  assert.deepEqual({ rule: problems.password.rule, limit: problems.password.limit }, { rule: 'minLength', limit: 8 });
  assert.match(user.body.message, /password: must be at least 8 characters/);

  const query = await api.call('GET', '/api/devices?size=9999', { token: api.tokens.admin });
  assert.equal(query.status, 400);
  assert.deepEqual(
    (({ in: part, field, rule, limit }) => ({ part, field, rule, limit }))(query.body.detail[0]),
    { part: 'querystring', field: 'size', rule: 'maximum', limit: 500 },
  );
});

test("a stage's own checks (the alarm settings' channels) come out structured too, path and rule included", async () => {
  const current = (await api.call('GET', '/api/config/alarm', { token: api.tokens.admin })).body;
  const { updated_at: _u, ...settings } = current;
  const body = { ...settings, channels: { email: { enabled: true, settings: { host: 'smtp.example.com', port: 70000, from: 'a@example.com', recipients: ['b@example.com'] } } } };
  const response = await api.call('PUT', '/api/config/alarm', { token: api.tokens.admin, body });
  assert.equal(response.status, 400, response.text);
  const port = response.body.detail.find((p: { field: string }) => p.field.endsWith('port'));
  assert.ok(port, JSON.stringify(response.body.detail));
  assert.equal(port.rule, 'maximum');
  assert.equal(port.limit, 65535);
  assert.match(response.body.message, /port: must be 65535 or less/);
  assert.doesNotMatch(response.body.message, /Expected/);
});

test('logins, failed logins and lock-outs are audited: no password, no unknown typed name, a few rows under a burst', async () => {
  await api.call('POST', '/api/users', { token: api.tokens.admin, body: { username: 'victim', role: 'viewer', password: 'victim-pass-1' } });
  const ip = '10.9.8.7';
  const attempt = (username: string, password: string, from = ip) =>
    api.call('POST', '/api/auth/login', { body: { username, password }, headers: { 'x-test-ip': from } });

  assert.equal((await attempt('victim', 'victim-pass-1', '10.9.8.6')).status, 200);
  assert.equal((await attempt('my-secret-pw-typed-as-name', 'x', '10.9.8.5')).status, 401);
  const statuses: number[] = [];
  for (let i = 0; i < 200; i++) statuses.push((await attempt('victim', `guess-${i}`)).status);
  assert.ok(statuses.includes(401) && statuses.includes(429), 'some guesses were checked, the rest refused');

  const log = await api.call('GET', '/api/system/logs?action=auth.&size=100', { token: api.tokens.admin });
  assert.equal(log.status, 200);
  const entries = log.body.data as { action: string; username: string; ip: string; target: string | null; after: Record<string, unknown> }[];
  const text = JSON.stringify(entries);
  assert.doesNotMatch(text, /guess-|victim-pass|my-secret-pw/, 'neither passwords nor an unknown typed name are stored');

  const login = entries.find((e) => e.action === 'auth.login' && e.target === 'victim');
  assert.ok(login, 'the successful login is audited');
  assert.equal(login.ip, '10.9.8.6');
  const unknown = entries.find((e) => e.action === 'auth.login_failed' && e.ip === '10.9.8.5');
  assert.ok(unknown);
  assert.equal(unknown.target, null);
  assert.equal(unknown.after.reason, 'unknown user name');

  const burst = entries.filter((e) => e.ip === ip);
  assert.ok(burst.length <= 5, `200 guesses leave a handful of rows, not one each: ${burst.length}`);
  const failed = burst.filter((e) => e.action === 'auth.login_failed');
  assert.equal(failed[0]?.target, 'victim');
  const lockouts = burst.filter((e) => e.action === 'auth.lockout');
  assert.ok(lockouts.length >= 1, 'the lock-out is audited');
  const newest = lockouts[0]; // newest first
  assert.equal(newest.after.refused_in_window, 100, 'rows at the 1st, 10th, 100th refusal, each with the count');
  assert.equal(newest.after.failed_in_window, statuses.filter((s) => s === 401).length);
});

test('across many addresses the failure rows per window are capped, and what was held back is counted', () => {
  const clock = manualClock(0);
  const rows: NewAuditEntry[] = [];
  const logins = createLoginAudit({ record: (entry) => rows.push(entry), clock, windowMs: 60_000 });
  for (let i = 0; i < 1000; i++) logins.failed('admin', true, `10.0.${i >> 8}.${i & 255}`);
  assert.equal(rows.length, MAX_ENTRIES_PER_WINDOW);
  clock.advance(60_000);
  logins.failed('admin', true, '10.1.0.1');
  assert.equal(rows.length, MAX_ENTRIES_PER_WINDOW + 1);
  assert.equal((rows.at(-1)!.after as { suppressed: number }).suppressed, 1000 - MAX_ENTRIES_PER_WINDOW);
});

test('the floor plan is served from a signed, expiring URL; a token in its query is refused', async () => {
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64)]);
  const boundary = 'plan-boundary';
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="plan.png"\r\ncontent-type: image/png\r\n\r\n`),
    png, Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const uploaded = await api.call('POST', '/api/config/dashboard/bg', { token: api.tokens.admin, payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
  assert.equal(uploaded.status, 200, uploaded.text);

  const url = (await api.call('GET', '/api/config/dashboard', { token: api.tokens.viewer })).body.background.url as string;
  assert.match(url, /^\/api\/config\/dashboard\/bg\?v=\d+&exp=\d+&sig=[\w-]+$/);
  assert.doesNotMatch(url, /token=|eyJ/, 'no JWT in the image URL');

  const image = await api.call('GET', url);
  assert.equal(image.status, 200, 'the signed URL alone opens the image');
  assert.equal(image.headers['content-type'], 'image/png');
  assert.equal((await api.call('GET', '/api/config/dashboard/bg', { token: api.tokens.admin })).status, 200, 'a Bearer header still works for API clients');

  const withToken = await api.call('GET', `/api/config/dashboard/bg?token=${encodeURIComponent(api.tokens.admin)}`);
  assert.equal(withToken.status, 401, 'a session token in the query is not accepted');
  assert.equal((await api.call('GET', url.replace(/sig=./, 'sig=A'))).status, 401, 'a changed signature is refused');
  assert.equal((await api.call('GET', url.replace(/exp=\d+/, `exp=${api.clock.now() + 3_600_000}`))).status, 401, 'a longer expiry is refused');

  api.clock.advance(11 * 60_000);
  assert.equal((await api.call('GET', url)).status, 401, 'the URL expires within minutes');
  const fresh = (await api.call('GET', '/api/config/dashboard', { token: api.tokens.viewer })).body.background.url as string;
  assert.equal((await api.call('GET', fresh)).status, 200);

  const audit = await api.call('GET', '/api/system/logs?action=config.dashboard.&size=5', { token: api.tokens.admin });
  assert.doesNotMatch(JSON.stringify(audit.body), /sig=/, 'the audit log keeps the image, not a signed URL');
});
