// ALM-9 through the real appliance (startApp: fastify, SQLite, broker): setpoints outside the
// standard's bounds refused over the API in both languages, an override accepted and audited, no
// new detector without a setpoint; and migration 009 from a version-8 database keeps every device,
// setpoint and alarm, naming a gas only where the record clearly says which.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { migrations } from '../../appliance/storage/migrations/index.ts';
import { dbFileIn, openDb, schemaVersion } from '../../appliance/storage/db.ts';
import { hashGeneratedPassword } from '../../appliance/core/device-credentials.ts';
import { apiForTheseTests, startApi } from '../helpers/api.ts';
import { connectDevice, eventually, publishReading, tempDir } from '../helpers/appliance.ts';

describe('the device API and the standard bounds', () => {
  const api = apiForTheseTests();

  const overrides = async () =>
    (await api.call('GET', '/api/system/logs?action=device.setpoint_override', { token: api.tokens.admin })).body.data as {
      username: string; target: string; after: { reason: string; overridden: { field: string; en: string }[]; setpoints: Record<string, unknown> };
    }[];

  test('a combustible level-1 setpoint above 25 % LEL is refused with 40005 in both languages; with a reason it is accepted and audited', async () => {
    const body = { sn: 'GAS-CH4', name: 'Compressor', gas: 'CH4', unit: '%LEL', high_limit: 30, high2_limit: 50 };
    const refused = await api.call('POST', '/api/devices', { token: api.tokens.admin, body });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.code, 40005);
    assert.match(refused.body.message, /level-1 setpoint 30 % LEL is above 25 % LEL/);
    assert.match(refused.body.message, /一级报警设定值 30 % LEL 超过 GB\/T 50493-2019/);
    assert.equal(refused.body.detail.overridable, true);
    assert.equal((await api.call('GET', '/api/devices/GAS-CH4', { token: api.tokens.admin })).status, 404, 'nothing stored');
    assert.deepEqual(await overrides(), []);

    const reason = 'vent stack area, approved by the safety manager';
    const created = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { ...body, setpoint_override_reason: reason } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.device.gas, 'CH4');
    assert.equal(created.body.device.unit, '%LEL');
    assert.equal(created.body.device.high_limit, 30);
    const [entry] = await overrides();
    assert.equal(entry.username, 'admin');
    assert.equal(entry.target, 'GAS-CH4');
    assert.equal(entry.after.reason, reason);
    assert.deepEqual(entry.after.overridden.map((p) => p.field), ['high_limit']);
    assert.deepEqual(entry.after.setpoints, { gas: 'CH4', unit: '%LEL', high_limit: 30, high2_limit: 50, low_limit: null });
  });

  test('a toxic setpoint raised above 100 % OEL by an update is refused, then accepted with a reason and audited', async () => {
    const created = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: 'GAS-CO', gas: 'CO', unit: 'mg/m3', high_limit: 20, high2_limit: 40 } });
    assert.equal(created.status, 201, created.text);
    const refused = await api.call('PUT', '/api/devices/GAS-CO', { token: api.tokens.admin, body: { high_limit: 30 } });
    assert.equal(refused.body.code, 40005);
    assert.match(refused.body.message, /100 % OEL \(PC-TWA 20 mg\/m³\)/);
    assert.equal((await api.call('GET', '/api/devices/GAS-CO', { token: api.tokens.admin })).body.high_limit, 20);
    const accepted = await api.call('PUT', '/api/devices/GAS-CO', { token: api.tokens.admin, body: { high_limit: 30, setpoint_override_reason: 'STEL-based, see permit 42' } });
    assert.equal(accepted.status, 200, accepted.text);
    assert.equal(accepted.body.high_limit, 30);
    const entry = (await overrides()).find((e) => e.target === 'GAS-CO');
    assert.equal(entry?.after.reason, 'STEL-based, see permit 42');
    assert.equal((await api.call('PUT', '/api/devices/GAS-CO', { token: api.tokens.admin, body: { name: 'Boiler CO' } })).status, 200, 'renaming asks nothing again');
  });

  test('a new or approved detector without any setpoint is refused, and no override helps', async () => {
    for (const body of [{ sn: 'GAS-NONE' }, { sn: 'GAS-NONE', gas: 'H2S', setpoint_override_reason: 'later' }]) {
      const refused = await api.call('POST', '/api/devices', { token: api.tokens.admin, body });
      assert.equal(refused.body.code, 40005);
      assert.equal(refused.body.detail.overridable, false);
      assert.match(refused.body.message, /no alarm setpoint.*\/.*未设置报警设定值/);
    }
    api.app.testApi.recordPendingDevice({ sn: 'GAS-PEND', ts: api.clock.now(), messages: 1, payload: '{}', remote: '10.0.0.9' });
    const adopt = await api.call('POST', '/api/devices/pending/GAS-PEND/adopt', { token: api.tokens.admin, body: { name: 'Found' } });
    assert.equal(adopt.body.code, 40005);
    const approved = await api.call('POST', '/api/devices/pending/GAS-PEND/adopt', { token: api.tokens.admin, body: { gas: 'O2', low_limit: 19.5, high_limit: 23.5 } });
    assert.equal(approved.status, 201, approved.text);
    assert.equal(approved.body.device.unit, '%VOL');
  });

  test("the seed API's device (serial, name, high limit) still registers, as a 'custom' gas", async () => {
    const created = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: 'SEED-7', name: 'Tank', high_limit: 1000 } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.device.gas, 'custom');
    assert.equal(created.body.device.unit, 'ppm');
  });

  test('an unknown gas or a unit the gas has not is 40004', async () => {
    assert.equal((await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: 'GAS-X', gas: 'Xe', high_limit: 1 } })).body.code, 40004);
    const wrongUnit = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: 'GAS-X', gas: 'O2', unit: 'mg/m3', low_limit: 19.5 } });
    assert.equal(wrongUnit.body.code, 40004);
    assert.match(wrongUnit.body.message, /not a unit of O2/);
  });
});

describe('migration 009 from a version-8 database', () => {
  test('keeps every device, setpoint and alarm; names the gas only where the record says which; an old device without setpoint shows unprotected', async () => {
    const temp = tempDir();
    const file = dbFileIn(temp.dir);
    const old = openDb(file, { migrations: migrations.filter((m) => m.version <= 8) });
    assert.equal(schemaVersion(old), 8);
    const password = 'old-device-password-123';
    const rows: [string, string, string, number | null, number | null, number | null, string | null][] = [
      // sn, gas, unit, high, high2, low, password hash
      ['OLD-CH4', 'CH4', 'ppm', 1000, 2000, null, null], // the seed default pair: nobody chose CH4
      ['OLD-LEL', 'CH4', '% LEL', 20, 40, null, null], // % LEL: a combustible detector, CH4 as recorded
      ['OLD-H2S', 'h2s', 'PPM', 5, 10, null, null],
      ['OLD-O2', 'O2', '%vol', 23.5, null, 19.5, null],
      ['OLD-O2X', 'CH4', '%VOL', 23, null, 19.5, null], // an oxygen detector left at the default gas
      ['OLD-LPG', 'LPG', 'lel', 25, null, null, null],
      ['OLD-PPB', 'CO', 'ppb', 50, null, null, null], // a unit the catalogue does not know stays as written
      ['OLD-NONE', 'CH4', 'ppm', null, null, null, hashGeneratedPassword(password)],
    ];
    const insertDevice = old.prepare(`INSERT INTO devices (sn, sn_id, gas, unit, high_limit, high2_limit, low_limit, password_hash, created_at, updated_at)
      VALUES (?, (SELECT id FROM serials WHERE sn = ?), ?, ?, ?, ?, ?, ?, 0, 0)`);
    for (const [sn, gas, unit, high, high2, low, hash] of rows) {
      old.prepare('INSERT INTO serials (sn) VALUES (?)').run(sn);
      insertDevice.run(sn, sn, gas, unit, high, high2, low, hash);
    }
    const insertAlarm = old.prepare(`INSERT INTO alarms (sn, source, type, state, value, threshold, peak, triggered_at, cleared_at, ack_at, ack_by, ack_comment, level, priority, latched, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    insertAlarm.run('OLD-CH4', 'OLD-CH4', 'HIGH', 'cleared', 1500, 1000, 2100, 1_000, 2_000, 3_000, 'admin', 'vented', 2, 'critical', 0, 3_000);
    insertAlarm.run('OLD-H2S', 'OLD-H2S', 'HIGH', 'active', 6, 5, 6.5, 4_000, null, null, null, null, 1, 'high', 0, 4_000);
    old.prepare("INSERT INTO alarm_journal (alarm_id, at, kind, level, value) VALUES (1, 1000, 'raised', 1, 1500), (2, 4000, 'raised', 1, 6)").run();
    const setpointsOf = (db: typeof old) => db.prepare('SELECT sn, high_limit, high2_limit, low_limit, calib_k, range_max, enabled FROM devices ORDER BY sn').all();
    const alarmsOf = (db: typeof old) => db.prepare('SELECT * FROM alarms ORDER BY id').all();
    const journalOf = (db: typeof old) => db.prepare('SELECT * FROM alarm_journal ORDER BY id').all();
    const before = { setpoints: setpointsOf(old), alarms: alarmsOf(old), journal: journalOf(old) };
    old.close();

    const api = await startApi({}, { dataDir: temp.dir });
    try {
      const listed = (await api.call('GET', '/api/devices?size=100', { token: api.tokens.admin })).body.data as { sn: string; gas: string; unit: string }[];
      assert.deepEqual(Object.fromEntries(listed.map((d) => [d.sn, `${d.gas} ${d.unit}`])), {
        'OLD-CH4': 'custom ppm', 'OLD-LEL': 'CH4 %LEL', 'OLD-H2S': 'H2S ppm', 'OLD-O2': 'O2 %VOL', 'OLD-O2X': 'custom %VOL',
        'OLD-LPG': 'C3H8 %LEL', 'OLD-PPB': 'custom ppb', 'OLD-NONE': 'custom ppm',
      });
      const now = openDb(file, { readonly: true });
      try {
        assert.ok(schemaVersion(now) >= 9);
        assert.deepEqual(setpointsOf(now), before.setpoints, 'every device with its setpoints');
        // (later migrations may add columns: the version-8 ones are compared)
        const asBefore = (rows: unknown[], like: unknown[]) =>
          rows.map((row) => Object.fromEntries(Object.keys(like[0] as object).map((key) => [key, (row as Record<string, unknown>)[key]])));
        assert.deepEqual(asBefore(alarmsOf(now), before.alarms), before.alarms, 'every alarm as it was');
        assert.deepEqual(asBefore(journalOf(now), before.journal).slice(0, before.journal.length), before.journal);
      } finally {
        now.close();
      }
      // an old device without setpoint is kept, renamable, and shown unprotected (yellow), not ok
      assert.equal((await api.call('PUT', '/api/devices/OLD-NONE', { token: api.tokens.admin, body: { name: 'Dryer' } })).status, 200);
      const client = await connectDevice(api.url, 'OLD-NONE', password);
      await publishReading(client, 'OLD-NONE', { seq: 1, ts: Math.floor(api.clock.now() / 1000), v_raw: 12 });
      try {
        await eventually(() => api.app.testApi.lastReadingAt('OLD-NONE') !== null, 3000, 'the reading in the live state');
        const shown = (await api.call('GET', '/api/devices/OLD-NONE', { token: api.tokens.viewer })).body;
        assert.equal(shown.status, 'online');
        assert.equal(shown.state, 'unprotected');
      } finally {
        await client.endAsync();
      }
    } finally {
      await api.stop();
      temp.remove();
    }
  });
});
