// The start banner (issue 18.7): the admin and kiosk URLs and the one-time password in both
// languages, for a person at a terminal; the addresses a wildcard listener is reachable at.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { baseUrlsOf, startBanner } from '../../appliance/core/banner.ts';

const facts = { version: '1.2.3', baseUrls: ['http://localhost:8080', 'http://192.168.1.20:8080'], mqttPort: 1883, mqttsPort: null, oneTimePassword: null };

describe('start banner', () => {
  test('names the admin UI and the kiosk at every address, the MQTT port, in English and Chinese', () => {
    const text = startBanner(facts);
    assert.match(text, /MCS Edge 1\.2\.3 is running \/ MCS Edge 1\.2\.3 已启动/);
    assert.match(text, /Admin UI \/ 管理界面: +http:\/\/localhost:8080\/admin\n/);
    assert.match(text, /^ +http:\/\/192\.168\.1\.20:8080\/admin$/m);
    assert.match(text, /Kiosk \/ 看板: +http:\/\/localhost:8080\/dashboard /);
    assert.match(text, /port 端口 1883\n/);
    assert.doesNotMatch(text, /TLS|password|密码/);
    assert.ok(text.endsWith('\n'));
  });

  test('shows a generated one-time password with the user name and that it must be changed, and the TLS port', () => {
    const text = startBanner({ ...facts, mqttsPort: 8883, oneTimePassword: 'Ab3dEf7hJk9mNp2qR' });
    assert.match(text, /user 用户名 admin, one-time password 一次性密码 Ab3dEf7hJk9mNp2qR\n/);
    assert.match(text, /must be changed at the first login\. \/ 仅显示这一次，首次登录时必须修改。/);
    assert.match(text, /port 端口 1883, TLS 8883\n/);
  });
});

describe('base URLs', () => {
  const nic = (address: string, family: 'IPv4' | 'IPv6', internal: boolean) => ({ address, family, internal }) as NetworkInterfaceInfo;
  const interfaces = { lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)], eth0: [nic('10.0.0.7', 'IPv4', false), nic('fe80::1', 'IPv6', false)], wlan0: [nic('192.168.1.20', 'IPv4', false)] };

  test('a wildcard listener: localhost, then each external IPv4 address', () => {
    assert.deepEqual(baseUrlsOf('0.0.0.0', 8080, false, interfaces), ['http://localhost:8080', 'http://10.0.0.7:8080', 'http://192.168.1.20:8080']);
    assert.deepEqual(baseUrlsOf('::', 443, true, {}), ['https://localhost:443']);
  });

  test('a configured host is the one URL; an IPv6 host in brackets', () => {
    assert.deepEqual(baseUrlsOf('127.0.0.1', 8080, false, interfaces), ['http://127.0.0.1:8080']);
    assert.deepEqual(baseUrlsOf('fd00::5', 8443, true, interfaces), ['https://[fd00::5]:8443']);
  });
});
