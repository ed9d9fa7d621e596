// Issue 15.5 through the real parts: detectors over real MQTT, the writer's transaction deciding the
// linkage rule (GB 16808-2025 two-signal confirmation), the outbox delivering the relay command to
// the simulator's output module — a real MQTT client — which switches and acknowledges on its status
// topic; each step in the alarm's journal. One detector at level 2 with confirmation on sends nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import type { LinkageRule } from '../../appliance/contract/linkage.ts';
import { createOutputModule, type OutputModule } from '../../simulator/output-module.ts';
import { startApi } from '../helpers/api.ts';
import { connectDevice, eventually, publishReading } from '../helpers/appliance.ts';

const ZONE = ['LK-1', 'LK-2', 'LK-3'];
const OUT = 'LK-OUT-1';

test('a level-2 alarm on two detectors of a zone switches the output module relay, acknowledged and journaled; one detector alone sends nothing; the clearing releases it (issue 15.5)', async () => {
  const api = await startApi({ site: { timezone: 'UTC', language: 'en' } });
  const { testApi } = api.app;
  const clients: MqttClient[] = [];
  let module: OutputModule | undefined;
  try {
    const detectors: Record<string, MqttClient> = {};
    for (const sn of ZONE) {
      const { password } = await testApi.addDevice({ sn, high_limit: 1000, high2_limit: 2000 });
      detectors[sn] = await connectDevice(api.url, sn, password!);
      clients.push(detectors[sn]);
    }
    // The output module is registered as what it is: kind 'output', no gas and no setpoint.
    const { device: outDevice, password: outPassword } = await testApi.addDevice({ sn: OUT, kind: 'output', name: 'Output module, hall 1' });
    assert.deepEqual([outDevice.kind, outDevice.high_limit, outDevice.low_limit], ['output', null, null]);
    module = createOutputModule({ sn: OUT, url: api.url, password: outPassword! });
    await module.start();

    // The rules go in with the alarm settings (PUT /api/config/alarm), validated.
    const rule: LinkageRule = {
      id: 'fan-hall-1', name: 'Exhaust fan, hall 1', enabled: true, detectors: ZONE, level: 2, confirm: true,
      action: { kind: 'relay', sn: OUT, ch: 1 }, release: true,
    };
    const { updated_at: _, ...saved } = (await api.call('GET', '/api/config/alarm', { token: api.tokens.admin })).body;
    const refused = await api.call('PUT', '/api/config/alarm', { token: api.tokens.admin, body: { ...saved, linkage: [{ ...rule, detectors: ['LK-1'] }] } });
    assert.equal(refused.status, 400);
    assert.match(refused.text, /two-signal confirmation needs at least two detectors/);
    const put = await api.call('PUT', '/api/config/alarm', { token: api.tokens.admin, body: { ...saved, linkage: [rule] } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body.linkage, [rule]);

    const ts = Math.floor(api.clock.now() / 1000);
    const alarmOf = (sn: string) => testApi.alarmRecords({ sn, type: 'HIGH' }).items[0];
    const linkageRows = () => ZONE.flatMap((sn) => (alarmOf(sn) ? testApi.outboxRows(alarmOf(sn).id) : []))
      .filter((row) => row.channel.startsWith('linkage:')).sort((a, b) => a.id - b.id);
    const linkageJournal = (sn: string) => testApi.alarmJournal(alarmOf(sn).id).filter((e) => e.kind === 'linkage').map((e) => `${e.actor} ${e.detail}`);

    // One detector at level 2: the PUBACK means its consequences are committed — and there are none.
    await publishReading(detectors['LK-1'], 'LK-1', { seq: 1, ts, v_raw: 2500 });
    assert.deepEqual([alarmOf('LK-1').level, alarmOf('LK-1').state], [2, 'active']);
    assert.deepEqual(linkageRows(), [], 'no linkage action with one detector and confirmation on');
    assert.deepEqual(linkageJournal('LK-1'), []);
    // A second detector at level 1 only does not confirm a level-2 rule either.
    await publishReading(detectors['LK-2'], 'LK-2', { seq: 1, ts, v_raw: 1500 });
    assert.deepEqual(linkageRows(), []);
    await testApi.notificationsSettled();
    assert.deepEqual(module.switched(), [], 'nothing reached the output module');

    // The second detector rises to level 2: the rule fires, queued in the same commit as the level change.
    await publishReading(detectors['LK-2'], 'LK-2', { seq: 2, ts: ts + 1, v_raw: 2600 });
    assert.deepEqual(linkageRows().map((r) => [r.alarm_id, r.channel, r.event]), [[alarmOf('LK-2').id, 'linkage:fan-hall-1', 'fire']]);
    await eventually(() => module!.relays()['1'] === true, 5000, 'relay 1 on at the output module');
    await eventually(() => linkageRows()[0].status === 'sent', 5000, 'the acknowledged action settled');
    assert.deepEqual(linkageJournal('LK-2'), [
      'linkage:fan-hall-1 fire: queued',
      `linkage:fan-hall-1 fire: sent: relay 1 on at ${OUT}: acknowledged by the output module`,
    ]);
    // The third detector adds nothing: the zone already holds.
    await publishReading(detectors['LK-3'], 'LK-3', { seq: 1, ts, v_raw: 2700 });
    assert.equal(linkageRows().length, 1);

    // LK-1 and LK-3 clear: LK-2 alone is one signal, the zone no longer holds → release (relay off).
    await publishReading(detectors['LK-1'], 'LK-1', { seq: 2, ts: ts + 2, v_raw: 100 });
    assert.equal(linkageRows().length, 1, 'two detectors (LK-2, LK-3) still confirm');
    await publishReading(detectors['LK-3'], 'LK-3', { seq: 2, ts: ts + 2, v_raw: 100 });
    const release = linkageRows()[1];
    assert.deepEqual([release.alarm_id, release.event], [alarmOf('LK-3').id, 'release']);
    await eventually(() => module!.relays()['1'] === false, 5000, 'relay 1 off at the output module');
    await eventually(() => linkageRows()[1].status === 'sent', 5000, 'the release settled');
    assert.deepEqual(linkageJournal('LK-3'), [
      'linkage:fan-hall-1 release: queued',
      `linkage:fan-hall-1 release: sent: relay 1 off at ${OUT}: acknowledged by the output module`,
    ]);
    assert.deepEqual(module.switched().map((s) => `${s.ch}:${s.on}`), ['1:true', '1:false']);
    // The device list shows the module's relays as it last reported them.
    const listed = (await api.call('GET', `/api/devices/${OUT}`, { token: api.tokens.admin })).body;
    assert.deepEqual([listed.kind, listed.state, listed.relay['1']], ['output', 'ok', false]);
  } finally {
    await module?.stop();
    await Promise.all(clients.map((c) => c.endAsync()));
    await api.stop();
  }
});
