// Issue 16.8: the group-commit queue's bound on its own (storage/queue-limit.ts): a reading that
// would reach the limit is refused at once with QUEUE_FULL and counted; a spell of refusals is said
// once when it starts and once when it ends. (queue-limit.test.ts holds the writer up for real.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createQueueLimit, QUEUE_FULL } from '../../appliance/storage/queue-limit.ts';
import { captureLogger } from '../helpers/appliance.ts';

test('below the limit a reading is admitted and its callback left to the commit', () => {
  const { log, lines } = captureLogger();
  const stats = { queueRefused: 0 };
  const limit = createQueueLimit({ limit: 3, stats, log });
  let called = false;
  assert.equal(limit.admits(2, () => (called = true)), true);
  assert.equal(called, false);
  assert.equal(stats.queueRefused, 0);
  assert.equal(lines.length, 0);
});

test('at the limit each reading is refused at once with QUEUE_FULL and counted; the spell is said once at its start and once at its end', () => {
  const { log, lines } = captureLogger();
  const stats = { queueRefused: 0 };
  const limit = createQueueLimit({ limit: 3, stats, log });
  const refusals: (Error & { code?: string })[] = [];
  for (const backlog of [3, 4, 3]) {
    const admitted = limit.admits(backlog, (error, inserted) => {
      assert.equal(inserted, false);
      refusals.push(error!);
    });
    assert.equal(admitted, false);
  }
  assert.equal(refusals.length, 3, 'each refused reading hears it at once');
  assert.ok(refusals.every((error) => error.code === QUEUE_FULL && /not acknowledged/.test(error.message)));
  assert.equal(stats.queueRefused, 3);
  assert.equal(lines.length, 1, 'said once, not per reading');
  assert.match(lines[0].msg, /ingest queue full/);
  assert.equal(lines[0].backlog, 3);

  assert.equal(limit.admits(2, () => assert.fail('an admitted reading is not answered here')), true);
  assert.equal(lines.length, 2);
  assert.match(lines[1].msg, /below its limit again/);
  assert.equal(lines[1].refused, 3);
  limit.admits(1, () => {});
  assert.equal(lines.length, 2, 'the end of the spell is said once');
});

test('without a limit every reading is admitted', () => {
  const { log } = captureLogger();
  const stats = { queueRefused: 0 };
  const limit = createQueueLimit({ limit: Infinity, stats, log });
  assert.equal(limit.admits(Number.MAX_SAFE_INTEGER, () => {}), true);
  assert.equal(stats.queueRefused, 0);
});
