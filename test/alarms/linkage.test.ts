// Issue 15.5: the linkage decision (GB 16808-2025 control outputs), pure: levels, the two-signal
// confirmation of a zone, release, and what does not count.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { linkageOrders, ruleHolds } from '../../appliance/alarms/linkage.ts';
import type { AlarmEvent, AlarmEventKind, AlarmRecord } from '../../appliance/contract/alarm.ts';
import { linkageProblems, type LinkageRule } from '../../appliance/contract/linkage.ts';

const rule = (fields: Partial<LinkageRule> = {}): LinkageRule => ({
  id: 'fan', name: 'Fan, hall 1', enabled: true, detectors: ['D1', 'D2', 'D3'], level: 2, confirm: false,
  action: { kind: 'relay', sn: 'OUT-1', ch: 1 }, release: true, ...fields,
});

function event(kind: AlarmEventKind, sn: string, level: number | null, type = 'HIGH'): AlarmEvent {
  const alarm = { id: 1, sn, source: sn, type, level, state: kind === 'cleared' ? 'cleared' : 'active' } as AlarmRecord;
  return { kind, alarm };
}

/** The levels after the change, as the lifecycle would give them (the detector's own included). */
const levels = (map: Record<string, number>) => (sn: string) => map[sn] ?? null;
const orders = (e: AlarmEvent, rules: LinkageRule[], now: Record<string, number>) =>
  linkageOrders(e, rules, levels(now)).map((o) => `${o.channel} ${o.event}`);

describe('linkage decision (issue 15.5)', () => {
  test('a detector of the zone reaching the rule level fires the rule once; level 1 does not reach a level-2 rule', () => {
    assert.deepEqual(orders(event('raised', 'D1', 1), [rule()], { D1: 1 }), []);
    assert.deepEqual(orders(event('level', 'D1', 2), [rule()], { D1: 2 }), ['linkage:fan fire']);
    assert.deepEqual(orders(event('raised', 'D2', 2), [rule()], { D1: 2, D2: 2 }), [], 'already holding: no second fire');
    assert.deepEqual(orders(event('raised', 'D1', 1), [rule({ level: 1 })], { D1: 1 }), ['linkage:fan fire'], 'level 1 rule');
    assert.deepEqual(orders(event('raised', 'D1', 2), [rule({ level: 1 })], { D1: 2 }), ['linkage:fan fire'], 'level 2 is above level 1');
  });

  test('a detector outside the zone, another type, a peak or an acknowledgement never acts', () => {
    assert.deepEqual(orders(event('raised', 'D9', 2), [rule()], { D9: 2 }), []);
    assert.deepEqual(orders(event('raised', 'D1', null, 'LOW'), [rule()], {}), []);
    assert.deepEqual(orders(event('raised', 'D1', null, 'OFFLINE'), [rule()], {}), []);
    assert.deepEqual(orders(event('peak', 'D1', 2), [rule()], { D1: 2 }), []);
    assert.deepEqual(orders(event('acknowledged', 'D1', 2), [rule()], { D1: 2 }), []);
    assert.deepEqual(orders(event('raised', 'D1', 2), [rule({ enabled: false })], { D1: 2 }), [], 'a disabled rule');
  });

  test('two-signal confirmation: one detector of the zone at the level is not enough, the second fires', () => {
    const confirmed = rule({ confirm: true });
    assert.deepEqual(orders(event('raised', 'D1', 2), [confirmed], { D1: 2 }), [], 'one detector only');
    assert.deepEqual(orders(event('raised', 'D2', 1), [confirmed], { D1: 2, D2: 1 }), [], 'the second below the level');
    assert.deepEqual(orders(event('level', 'D2', 2), [confirmed], { D1: 2, D2: 2 }), ['linkage:fan fire']);
    assert.deepEqual(orders(event('raised', 'D3', 2), [confirmed], { D1: 2, D2: 2, D3: 2 }), [], 'a third changes nothing');
    assert.equal(ruleHolds(confirmed, levels({ D1: 2, D9: 2 })), false, 'a detector outside the zone does not confirm');
  });

  test('release when the zone stops holding: a level falling back, a clearing; not while another still holds it', () => {
    const confirmed = rule({ confirm: true });
    assert.deepEqual(orders(event('level', 'D1', 1), [confirmed], { D1: 1, D2: 2 }), ['linkage:fan release'], 'level 2 → 1');
    assert.deepEqual(orders(event('cleared', 'D1', 2), [rule()], { D2: 2 }), [], 'D2 still holds a one-detector rule');
    assert.deepEqual(orders(event('cleared', 'D2', 2), [rule()], {}), ['linkage:fan release']);
    assert.deepEqual(orders(event('cleared', 'D2', 2), [rule({ release: false })], {}), [], 'a rule without release leaves the output on');
  });

  test('a repeat (ALM-3 re-opened record) fires again after a release; each rule of the zone decides alone', () => {
    assert.deepEqual(orders(event('repeat', 'D1', 2), [rule()], { D1: 2 }), ['linkage:fan fire']);
    const valve = rule({ id: 'valve', detectors: ['D1'], level: 1, action: { kind: 'webhook', url: 'http://127.0.0.1/valve' } });
    assert.deepEqual(orders(event('raised', 'D1', 2), [rule(), valve], { D1: 2 }), ['linkage:fan fire', 'linkage:valve fire']);
  });

  test('rule problems: ids used twice, a confirmation with one detector (both languages)', () => {
    const problems = linkageProblems([rule(), rule({ detectors: ['D1'], confirm: true })]);
    assert.equal(problems.length, 2);
    assert.match(problems[0], /used twice.*重复/);
    assert.match(problems[1], /\/linkage\/1\/detectors: two-signal confirmation needs at least two detectors.*双信号/);
    assert.deepEqual(linkageProblems([rule(), rule({ id: 'other' })]), []);
  });
});
