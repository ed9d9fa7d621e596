// The alarm configuration in system_config: validation (50001), secrets sealed at rest and
// redacted in output (API-7), redacted values keeping the stored secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../appliance/core/clock.ts';
import { AppError } from '../../appliance/core/errors.ts';
import { createSecretBox, REDACTED } from '../../appliance/core/secrets.ts';
import { createAlarmSettings, DEFAULT_ALARM_SETTINGS } from '../../appliance/notify/alarm-settings.ts';
import { createConfigRepository } from '../../appliance/storage/config.ts';
import { tempDbForEachTest } from '../helpers/temp-db.ts';

const sqlite = tempDbForEachTest();
const store = () => createAlarmSettings({ config: createConfigRepository(sqlite.db), box: createSecretBox(sqlite.dir), clock: manualClock() });
const email = { host: 'smtp.plant.example', port: 465, secure: true, user: 'alarm', pass: 'smtp-password', from: 'alarm@plant.example', recipients: ['a@plant.example'] };

test('with nothing saved the defaults apply: 10 min debounce, 5 % deadband, no channel', () => {
  const settings = store().current();
  assert.deepEqual([settings.debounce_min, settings.deadband_pct, settings.schedule.always_notify], [10, 5, ['HIGH']]);
  assert.deepEqual(store().enabledChannels(), []);
  assert.deepEqual(settings, DEFAULT_ALARM_SETTINGS);
});

test('secrets are sealed in the database, in clear for sending, and redacted for display', () => {
  store().save({ channels: { email: { enabled: true, settings: email }, dingtalk: { enabled: false, settings: { url: 'https://oapi.dingtalk.com/robot/send?access_token=x', secret: 'SECabc' } } } });
  const raw = (sqlite.db.prepare("SELECT value FROM system_config WHERE key = 'alarm'").get() as { value: string }).value;
  assert.doesNotMatch(raw, /smtp-password|SECabc/);
  assert.match(raw, /enc:v1:/);
  const fresh = store();
  assert.equal(fresh.current().channels.email!.settings.pass, 'smtp-password');
  assert.equal(fresh.redacted().channels.email!.settings.pass, REDACTED);
  assert.equal(fresh.redacted().channels.dingtalk!.settings.secret, REDACTED);
  assert.deepEqual(fresh.enabledChannels(), ['email']);
});

test('saving the redacted form back keeps the stored secret', () => {
  store().save({ channels: { email: { enabled: true, settings: email } } });
  const shown = store().redacted();
  shown.channels.email!.settings.recipients = ['b@plant.example'];
  store().save(shown);
  assert.equal(store().current().channels.email!.settings.pass, 'smtp-password');
  assert.deepEqual(store().current().channels.email!.settings.recipients, ['b@plant.example']);
});

test('bad settings are refused with 50001 listing every problem, and nothing is stored', () => {
  let error: unknown;
  try {
    store().save({
      debounce_min: -1,
      channels: {
        email: { enabled: true, settings: { ...email, recipients: ['not-an-address'] } },
        webhook: { enabled: true, settings: { url: 'ftp://nowhere' } },
      },
    });
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof AppError);
  assert.equal(error.code, 50001);
  assert.match(error.message, /debounce_min/);
  assert.equal(sqlite.db.prepare("SELECT count(*) AS n FROM system_config WHERE key = 'alarm'").pluck().get(), 0);

  // With the top level sound, every channel's problems are listed together.
  try {
    store().save({
      channels: {
        email: { enabled: true, settings: { ...email, recipients: ['not-an-address'] } },
        webhook: { enabled: true, settings: { url: 'ftp://nowhere' } },
      },
    });
    assert.fail('accepted');
  } catch (err) {
    assert.ok(err instanceof AppError && err.code === 50001);
    assert.match(err.message, /channels\/email/);
    assert.match(err.message, /channels\/webhook/);
  }
});
