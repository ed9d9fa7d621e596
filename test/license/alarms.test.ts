// The LICENSE system alarm (seed §8.4): which sources hold for an evaluation and a time, and that
// the follower reports each source only when it changes (both on the first evaluation).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLicenseAlarms, GRACE_ALARM_MS, licenseAlarms } from '../../appliance/license/alarms.ts';
import type { Evaluation } from '../../licensing/gate.ts';

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 5, 1, 3);
const valid: Evaluation = { mode: 'valid', reason: 'ok', code: 0, message: 'Licensed', maxDevices: 50, validUntil: NOW + HOUR, graceUntil: null };
const grace = (left: number): Evaluation =>
  ({ mode: 'grace', reason: 'checkin_overdue', code: 0, message: `grace, ${left} ms left`, maxDevices: 50, validUntil: null, graceUntil: NOW + left });
const locked: Evaluation = { mode: 'locked', reason: 'grace_over', code: 20001, message: 'Locked: grace over', maxDevices: 50, validUntil: null, graceUntil: null };

describe('LICENSE alarm', () => {
  test('grace raises it only with less than 24 h left; locked raises it; valid and evaluation do not', () => {
    assert.equal(GRACE_ALARM_MS, 24 * HOUR);
    assert.deepEqual(licenseAlarms(valid, NOW), { 'license:grace': false, 'license:locked': false });
    assert.deepEqual(licenseAlarms(grace(48 * HOUR), NOW), { 'license:grace': false, 'license:locked': false });
    assert.deepEqual(licenseAlarms(grace(24 * HOUR), NOW), { 'license:grace': false, 'license:locked': false }, 'exactly 24 h left is not less');
    assert.deepEqual(licenseAlarms(grace(24 * HOUR - 1), NOW), { 'license:grace': true, 'license:locked': false });
    assert.deepEqual(licenseAlarms({ ...grace(0), graceUntil: null }, NOW), { 'license:grace': false, 'license:locked': false });
    assert.deepEqual(licenseAlarms(locked, NOW), { 'license:grace': false, 'license:locked': true });
    assert.deepEqual(licenseAlarms({ ...valid, mode: 'evaluation', reason: 'evaluation' }, NOW), { 'license:grace': false, 'license:locked': false });
  });

  test('each source is reported when it changes, with the evaluation\'s message as the detail', () => {
    const reports: string[] = [];
    const alarms = createLicenseAlarms((type, source, { holds, detail }) => reports.push(`${type} ${holds ? 'raise' : 'clear'} ${source}: ${detail}`));
    alarms.follow(valid, NOW);
    assert.deepEqual(reports, ['LICENSE clear license:grace: Licensed', 'LICENSE clear license:locked: Licensed'], 'the first evaluation clears both (a restart after the cause went)');
    alarms.follow(valid, NOW);
    alarms.follow(grace(30 * HOUR), NOW);
    assert.equal(reports.length, 2, 'nothing changed');
    alarms.follow(grace(20 * HOUR), NOW);
    assert.deepEqual(reports.slice(2), [`LICENSE raise license:grace: grace, ${20 * HOUR} ms left`]);
    alarms.follow(locked, NOW);
    assert.deepEqual(reports.slice(3), ['LICENSE clear license:grace: Locked: grace over', 'LICENSE raise license:locked: Locked: grace over']);
    alarms.follow(valid, NOW);
    assert.deepEqual(reports.slice(5), ['LICENSE clear license:locked: Licensed']);
  });
});
