// ALM-9…ALM-12 through the real parts: a detector over real MQTT, the writer's transaction, a real
// SMTP server, the REST API and the kiosk WebSocket. A leak ramp through the two levels of GB/T
// 50493-2019 is one record whose level rises and falls; the rise to level 2 is sent again; the
// cleared gas alarm latches on the lists until acknowledged; its journal tells the episode in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDashboard, startApi } from '../helpers/api.ts';
import { connectDevice, eventually, publishReading } from '../helpers/appliance.ts';
import { startSmtp } from '../helpers/smtp.ts';

const SN = 'LVL-1';

test('a leak through level 1 and level 2 is one record, notified at each rise, latched until acknowledged, with its journal (ALM-9…ALM-12)', async () => {
  const smtp = await startSmtp();
  const api = await startApi({ site: { timezone: 'UTC', language: 'en' } });
  const kiosk = openDashboard(api, api.tokens.viewer);
  await eventually(() => kiosk.of('snapshot').length === 1, 3000, 'the kiosk snapshot');
  try {
    const { testApi } = api.app;
    testApi.saveAlarmSettings({
      schedule: { notify_cleared: false },
      channels: { email: { enabled: true, settings: { host: '127.0.0.1', port: smtp.port, from: 'alarm@plant.example', recipients: ['safety@plant.example'] } } },
    });
    const created = await api.call('POST', '/api/devices', {
      token: api.tokens.admin, body: { sn: SN, name: 'Boiler room', high_limit: 1000, high2_limit: 2000, calib: { k: 1, b: 0 } },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.device.high2_limit, 2000);
    const refused = await api.call('PUT', `/api/devices/${SN}`, { token: api.tokens.admin, body: { high2_limit: 900 } });
    assert.deepEqual([refused.status, refused.body.code], [400, 40004], 'a second level below the first is refused');
    assert.match(refused.text, /high2_limit: must be above high_limit/);

    const client = await connectDevice(api.url, SN, created.body.password);
    const ts = Math.floor(api.clock.now() / 1000);
    for (const [i, ppm] of [1500, 2500, 1950, 1850, 900].entries()) await publishReading(client, SN, { seq: i + 1, ts: ts + i, v_raw: ppm });

    const list = await api.call('GET', `/api/alarms?sn=${SN}`, { token: api.tokens.viewer });
    assert.equal(list.body.total, 1, 'one episode');
    const [alarm] = list.body.data;
    assert.deepEqual([alarm.type, alarm.state, alarm.level, alarm.peak, alarm.isa_state, alarm.priority], ['HIGH', 'cleared', 1, 2500, 'returned_unacknowledged', 'high']);
    await eventually(() => smtp.mails.length === 2, 5000, 'two notifications');
    assert.match(smtp.mails[0].raw, /level 1/);
    assert.match(smtp.mails[1].raw, /level 2/);

    const journal = await api.call('GET', `/api/alarms/${alarm.id}/journal`, { token: api.tokens.viewer });
    const kinds = journal.body.data.filter((e: { kind: string }) => e.kind !== 'notification').map((e: { kind: string; level: number | null }) => `${e.kind}@${e.level}`);
    assert.deepEqual(kinds, ['raised@1', 'level@2', 'peak@2', 'level@1', 'cleared@1']);
    // Each delivery's result is journaled (the outbox settles just after the mail is accepted).
    const deliveries = () => testApi.alarmJournal(alarm.id).filter((e) => e.kind === 'notification' && /sent/.test(e.detail ?? ''));
    await eventually(() => deliveries().length === 2, 5000, 'the deliveries in the journal');

    // ALM-11: cleared but not acknowledged, it stays on the kiosk's list; the kiosk silences; an operator acknowledges.
    const onKiosk = () => kiosk.of('alarm').filter((m) => m.data.id === alarm.id).at(-1)?.data.isa_state;
    await eventually(() => onKiosk() === 'returned_unacknowledged', 2000, 'the latched alarm on the kiosk');
    const silenced = await api.call('POST', '/api/alarms/silence', { token: api.tokens.viewer, body: { kiosk: 'control room' } });
    assert.deepEqual([silenced.status, silenced.body.silenced], [200, 1]);
    const acked = await api.call('POST', `/api/alarms/${alarm.id}/ack`, { token: api.tokens.operator, body: { comment: 'leak found and closed' } });
    assert.equal(acked.body.isa_state, 'normal');
    await eventually(() => onKiosk() === 'normal', 2000, 'off the kiosk list');
    const last = (await api.call('GET', `/api/alarms/${alarm.id}/journal`, { token: api.tokens.viewer })).body.data.slice(-2);
    assert.deepEqual(last.map((e: { kind: string; actor: string }) => `${e.kind}:${e.actor}`), ['silenced:control room (viewer)', 'acknowledged:operator']);
    await client.endAsync();
  } finally {
    kiosk.socket.close();
    await api.stop();
    await smtp.close();
  }
});
