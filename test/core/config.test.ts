// SPEC §12: embedded defaults, then a JSON file, then MCS_* environment variables; every error listed.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, envNameOf, type Config, type ConfigResult } from '../../appliance/core/config.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcs-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let fileCounter = 0;
function writeFile(content: string): string {
  const file = path.join(dir, `config-${++fileCounter}.json`);
  fs.writeFileSync(file, content);
  return file;
}
const writeJson = (value: unknown) => writeFile(JSON.stringify(value));

function ok(result: ConfigResult): Config {
  if (!result.ok) assert.fail(`expected a valid config, got errors: ${result.errors.join(' | ')}`);
  return result.config;
}
function errors(result: ConfigResult): string[] {
  if (result.ok) assert.fail('expected config errors, got a valid config');
  return result.errors;
}
function assertSomeError(list: string[], re: RegExp) {
  assert.ok(list.some((e) => re.test(e)), `no error matching ${re} in: ${list.join(' | ')}`);
}

describe('embedded defaults', () => {
  test('with no file and no environment the SPEC §12 defaults apply', () => {
    const config = ok(loadConfig({ env: {} }));
    assert.equal(config.data_dir, './data');
    assert.equal(config.http.port, 8080);
    assert.equal(config.mqtt.port, 1883);
    assert.equal(config.mqtt.tls_port, 8883);
    assert.equal(config.mqtt.tls_cert, '');
    assert.equal(config.mqtt.factory_secret, '');
    assert.equal(config.storage.synchronous, 'FULL');
    assert.equal(config.storage.retention_days, 3);
    assert.equal(config.storage.rollup_1m_days, 30);
    assert.equal(config.storage.rollup_1h_days, 730);
    assert.equal(config.ingest.offline_timeout_s, 90);
    assert.equal(config.ingest.offline_grace_s, 60); // issue 15.4
    assert.equal(config.ingest.reboot_grace_s, 180);
    assert.equal(config.ingest.clock_skew_s, 300);
    assert.equal(config.log.level, 'info');
  });

  test('loading twice does not share mutable state between results', () => {
    const first = ok(loadConfig({ env: {} }));
    first.http.port = 1;
    const second = ok(loadConfig({ env: {} }));
    assert.equal(second.http.port, 8080);
  });
});

describe('config file', () => {
  test('a JSON file overrides the defaults it names and keeps the others', () => {
    const file = writeJson({ data_dir: '/var/lib/mcs-edge', mqtt: { port: 11883 }, storage: { synchronous: 'NORMAL' } });
    const config = ok(loadConfig({ file, env: {} }));
    assert.equal(config.data_dir, '/var/lib/mcs-edge');
    assert.equal(config.mqtt.port, 11883);
    assert.equal(config.storage.synchronous, 'NORMAL');
    assert.equal(config.mqtt.tls_port, 8883);
    assert.equal(config.http.port, 8080);
    assert.equal(config.storage.retention_days, 3);
  });

  test('an unknown key in the file is an error naming the key', () => {
    const file = writeJson({ mqtt: { prot: 1884 } });
    assertSomeError(errors(loadConfig({ file, env: {} })), /^mqtt\.prot: .*(unexpected|unknown)/i);
  });

  test('an unknown top-level key in the file is an error', () => {
    const file = writeJson({ datadir: '/tmp/x' });
    assertSomeError(errors(loadConfig({ file, env: {} })), /^datadir: .*(unexpected|unknown)/i);
  });

  test('several invalid values in the file are all reported, not just the first', () => {
    const file = writeJson({ http: { port: 'eighty' }, mqtt: { port: 70000 }, storage: { synchronous: 'OFF' } });
    const list = errors(loadConfig({ file, env: {} }));
    assertSomeError(list, /^http\.port/);
    assertSomeError(list, /^mqtt\.port/);
    assertSomeError(list, /^storage\.synchronous/);
  });

  test('a malformed JSON file is an error naming the file', () => {
    const file = writeFile('{ "mqtt": { "port": 1884, } ');
    const list = errors(loadConfig({ file, env: {} }));
    assert.equal(list.length, 1);
    assert.ok(list[0].includes(file), list[0]);
  });

  test('a file holding a JSON array instead of an object is an error naming the file', () => {
    const file = writeJson([1, 2]);
    const list = errors(loadConfig({ file, env: {} }));
    assert.ok(list[0].includes(file), list[0]);
  });

  test('a missing file is an error naming the file', () => {
    const file = path.join(dir, 'does-not-exist.json');
    assertSomeError(errors(loadConfig({ file, env: {} })), new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  });
});

describe('MCS_* environment variables', () => {
  test('env names are derived from the setting path', () => {
    assert.equal(envNameOf(['mqtt', 'tls_cert']), 'MCS_MQTT_TLS_CERT');
    assert.equal(envNameOf(['data_dir']), 'MCS_DATA_DIR');
  });

  test('environment variables override the file', () => {
    const file = writeJson({ data_dir: '/from/file', mqtt: { port: 11883 }, ingest: { offline_timeout_s: 60 } });
    const config = ok(
      loadConfig({
        file,
        env: { MCS_MQTT_PORT: '21883', MCS_DATA_DIR: '/from/env', MCS_INGEST_OFFLINE_TIMEOUT_S: '120' },
      }),
    );
    assert.equal(config.mqtt.port, 21883);
    assert.equal(config.data_dir, '/from/env');
    assert.equal(config.ingest.offline_timeout_s, 120);
  });

  test('MCS_ADMIN_PASSWORD sets the first admin password (API-4)', () => {
    const config = ok(loadConfig({ env: { MCS_ADMIN_PASSWORD: 's3cret-pass' } }));
    assert.equal(config.admin.password, 's3cret-pass');
  });

  test('a non-numeric value for a numeric setting is an error naming the setting and the variable', () => {
    const list = errors(loadConfig({ env: { MCS_MQTT_PORT: 'abc' } }));
    assertSomeError(list, /mqtt\.port/);
    assertSomeError(list, /MCS_MQTT_PORT/);
  });

  test('an empty value for a numeric setting is an error, not 0', () => {
    assertSomeError(errors(loadConfig({ env: { MCS_HTTP_PORT: '' } })), /http\.port/);
  });

  test('a numeric env value outside the allowed range is an error', () => {
    assertSomeError(errors(loadConfig({ env: { MCS_INGEST_OFFLINE_TIMEOUT_S: '1' } })), /ingest\.offline_timeout_s/);
  });

  test('an unknown MCS_ variable is only a warning and the config still loads', () => {
    const result = loadConfig({ env: { MCS_MQTT_PROT: '1', MCS_CONFIG: '/etc/mcs-edge/config.json', PATH: '/bin' } });
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.warnings.length, 1);
    assert.match(result.warnings[0], /MCS_MQTT_PROT/);
  });

  test('an invalid env value and an invalid file value are both reported', () => {
    const file = writeJson({ http: { port: 'eighty' } });
    const list = errors(loadConfig({ file, env: { MCS_MQTT_PORT: 'abc' } }));
    assertSomeError(list, /mqtt\.port/);
    assertSomeError(list, /http\.port/);
  });
});

describe('cross checks', () => {
  test('a TLS certificate without a key is an error', () => {
    const list = errors(loadConfig({ env: { MCS_MQTT_TLS_CERT: '/etc/mcs-edge/cert.pem' } }));
    assertSomeError(list, /tls_key/);
  });

  test('a TLS certificate with its key is accepted, for MQTT and for HTTP', () => {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    fs.writeFileSync(cert, 'cert');
    fs.writeFileSync(key, 'key');
    const config = ok(loadConfig({
      env: { MCS_MQTT_TLS_CERT: cert, MCS_MQTT_TLS_KEY: key, MCS_HTTP_TLS_CERT: cert, MCS_HTTP_TLS_KEY: key },
    }));
    assert.equal(config.mqtt.tls_key, key);
    assert.equal(config.http.tls_cert, cert);
  });

  test('a TLS file that cannot be read is an error naming the setting and the file (PKG-2: `check` catches it before a start)', () => {
    const list = errors(loadConfig({ env: { MCS_HTTP_TLS_CERT: path.join(dir, 'missing.pem'), MCS_HTTP_TLS_KEY: path.join(dir, 'missing-key.pem') } }));
    assertSomeError(list, /http\.tls_cert: cannot read .*missing\.pem \(ENOENT\)/);
    assertSomeError(list, /http\.tls_key: cannot read/);
  });

  test('an unknown time zone is an error naming it', () => {
    const list = errors(loadConfig({ env: { MCS_SITE_TIMEZONE: 'Mars/Olympus_Mons' } }));
    assertSomeError(list, /site\.timezone.*Mars\/Olympus_Mons/);
  });

  test('a known time zone is accepted', () => {
    assert.equal(ok(loadConfig({ env: { MCS_SITE_TIMEZONE: 'Asia/Shanghai' } })).site.timezone, 'Asia/Shanghai');
  });

  test('the MQTT and HTTP ports must differ', () => {
    assertSomeError(errors(loadConfig({ env: { MCS_MQTT_PORT: '8080' } })), /mqtt\.port/);
  });

  test('license: no server by default; a server URL must be http(s)', () => {
    const config = ok(loadConfig({ env: {} }));
    assert.deepEqual(config.license, { file: '', server_url: '', machine_id: '', timeout_s: 15 });
    assert.equal(ok(loadConfig({ env: { MCS_LICENSE_SERVER_URL: 'https://license.example.com' } })).license.server_url, 'https://license.example.com');
    assertSomeError(errors(loadConfig({ env: { MCS_LICENSE_SERVER_URL: 'license.example.com' } })), /license\.server_url: not an http\(s\) URL/);
  });

  test('a schema error and a cross-check error are reported together', () => {
    const file = writeJson({ http: { port: -1 }, site: { timezone: 'Mars/Olympus_Mons' } });
    const list = errors(loadConfig({ file, env: {} }));
    assertSomeError(list, /http\.port/);
    assertSomeError(list, /site\.timezone/);
  });
});
