// ALM-11 on the command line: `alarms ack` refuses to acknowledge an alarm whose priority needs a
// comment without one (code 50005, in both languages), as the API does; the priorities that need
// one follow the alarm settings. On a real data dir.
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAlarmsCommand } from '../../appliance/cli/alarms.ts';
import { createAlarmRepository, createAlarmWriteRepository } from '../../appliance/storage/alarms.ts';
import { dbFileIn, openDb } from '../../appliance/storage/db.ts';
import { tempDir, testConfig } from '../helpers/appliance.ts';

let temp: ReturnType<typeof tempDir>;
let lines: string[];
let stderr: string[];
const originalWrite = process.stderr.write.bind(process.stderr);
const run = (...argv: string[]) => runAlarmsCommand(argv, testConfig(temp.dir, { site: { language: 'en', timezone: 'UTC' } }), (l) => lines.push(l));

beforeEach(() => {
  temp = tempDir();
  lines = [];
  stderr = [];
  process.stderr.write = ((chunk: string) => (stderr.push(String(chunk)), true)) as typeof process.stderr.write;
});
afterEach(() => {
  process.stderr.write = originalWrite;
  temp.remove();
});

function alarms(...priorities: string[]): number[] {
  const db = openDb(dbFileIn(temp.dir));
  try {
    const repo = createAlarmWriteRepository(db);
    return priorities.map((priority, i) =>
      repo.insert({ sn: `GAS-${i}`, source: `GAS-${i}`, type: 'HIGH', level: priority === 'critical' ? 2 : 1, priority, value: 60, threshold: 50, detail: null, at: Date.UTC(2026, 0, 1) }).id);
  } finally {
    db.close();
  }
}

const acknowledged = (id: number) => {
  const db = openDb(dbFileIn(temp.dir));
  try {
    return createAlarmRepository(db).get(id)!.ack_at !== null;
  } finally {
    db.close();
  }
};

test('a critical alarm is not acknowledged without a comment, alone or among others; with one it is', async () => {
  const [critical, high] = alarms('critical', 'high');
  assert.equal(await run('ack', String(critical), String(high), '--by', 'wang'), 1);
  assert.match(stderr.join(''), /a comment is required to acknowledge critical priority alarm #1: .*确认优先级为「紧急」的报警 #1 须填写处理说明.*\(code 50005\)/);
  assert.equal(acknowledged(critical) || acknowledged(high), false, 'nothing acknowledged');
  assert.equal(await run('ack', String(high), '--by', 'wang'), 0, 'high needs no comment by default');
  assert.equal(await run('ack', String(critical), '--by', 'wang', '--comment', 'valve closed'), 0);
  assert.deepEqual(lines, ['acknowledged 1 of 1', 'acknowledged 1 of 1']);
});

test('the priorities that need a comment follow the settings', async () => {
  const [critical, high] = alarms('critical', 'high');
  const file = join(temp.dir, 'alarm.json');
  writeFileSync(file, JSON.stringify({ ack_comment_required: { critical: false, high: true } }));
  assert.equal(await run('settings', 'set', file), 0);
  assert.equal(await run('ack', String(high), '--by', 'wang'), 1);
  assert.match(stderr.join(''), /high priority alarm #2/);
  assert.equal(await run('ack', String(critical), '--by', 'wang'), 0);
  assert.equal(acknowledged(critical), true);
});
