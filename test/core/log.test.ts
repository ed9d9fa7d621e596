// OPS-3: JSON log lines, to stdout or to a rotated file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../../appliance/core/log.ts';
import { eventually, tempDir } from '../helpers/appliance.ts';

test('with a log file set, JSON lines go to a numbered file that pino-roll rotates', async () => {
  const temp = tempDir();
  try {
    const log = await createLogger({ level: 'info', file: join(temp.dir, 'logs', 'mcs-edge.log') });
    log.child({ stage: 'test' }).info({ devices: 3 }, 'hello');
    log.debug('not at info level');
    const written = () => (existsSync(join(temp.dir, 'logs')) ? readdirSync(join(temp.dir, 'logs')) : []);
    await eventually(() => written().length > 0 && readFileSync(join(temp.dir, 'logs', written()[0]), 'utf8').includes('hello'), 5000, 'the log file');
    assert.deepEqual(written(), ['mcs-edge.1.log']);
    const lines = readFileSync(join(temp.dir, 'logs', 'mcs-edge.1.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 1, 'debug lines are filtered at info level');
    assert.deepEqual([lines[0].app, lines[0].stage, lines[0].devices, lines[0].msg], ['mcs-edge', 'test', 3, 'hello']);
  } finally {
    temp.remove();
  }
});
