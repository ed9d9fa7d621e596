// API-2: the contract's string formats are checked, not refused wholesale. A calibration recorded
// after the fact carries its own time (`at`, RFC 3339); before the date-time format was registered
// every such body was refused with "Unknown format 'date-time'".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type ApiApp } from '../helpers/api.ts';

let api: ApiApp;
before(async () => {
  api = await startApi();
  const created = await api.call('POST', '/api/devices', { token: api.tokens.admin, body: { sn: 'FMT-1', gas: 'CO', high_limit: 15 } });
  assert.equal(created.status, 201, created.text);
});
after(() => api.stop());

const calibration = (at?: string) => ({ kind: 'bump_test', test_gas: 'CO', concentration: 100, as_found: 98, passed: true, ...(at ? { at } : {}) });

test('a calibration recorded with its own past time is accepted and keeps that time', async () => {
  const at = new Date(api.clock.now() - 3 * 86_400_000).toISOString();
  const recorded = await api.call('POST', '/api/calibration/devices/FMT-1', { token: api.tokens.operator, body: calibration(at) });
  assert.equal(recorded.status, 201, recorded.text);
  assert.equal(recorded.body.record.at, at);
});

test('a time that is not RFC 3339 is refused with the field named', async () => {
  for (const at of ['yesterday', '2026-13-01T00:00:00Z', '2026-06-01 08:00']) {
    const refused = await api.call('POST', '/api/calibration/devices/FMT-1', { token: api.tokens.operator, body: calibration(at) });
    assert.equal(refused.status, 400, `${at}: ${refused.text}`);
    assert.match(refused.text, /at/);
  }
});
