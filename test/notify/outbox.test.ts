// ALM-6: the outbox on a real SQLite file, with scripted channels and a hand-driven clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../appliance/core/log.ts';
import { createOutbox, type Deliver, type DeliveryResult, type OutboxOptions } from '../../appliance/notify/outbox.ts';
import { dbAndClockForEachTest } from './support.ts';

const fixture = dbAndClockForEachTest(Date.UTC(2026, 0, 1));
const { clock } = fixture;

function outbox(deliver: Deliver, extra: Partial<OutboxOptions> = {}) {
  return createOutbox({ db: fixture.db, clock, log: silentLogger(), deliver, baseBackoffMs: 1000, maxBackoffMs: 8000, maxAttempts: 5, ...extra });
}

/** A channel answering with the scripted results in turn (the last one forever). */
function scripted(...results: DeliveryResult[]): Deliver & { calls: number } {
  const fn = Object.assign(async () => results[Math.min(fn.calls++, results.length - 1)], { calls: 0 });
  return fn;
}

const fail = (detail = 'connection refused'): DeliveryResult => ({ ok: false, detail, retryable: true });
const ok: DeliveryResult = { ok: true, detail: '250 queued' };

test('a notification is stored before it is sent and marked sent with its attempt', async () => {
  const box = outbox(scripted(ok));
  const [id] = box.enqueue(null, 'raised', ['email']);
  assert.equal(box.get(id)!.status, 'pending');
  box.runDue();
  await box.settled();
  assert.equal(box.get(id)!.status, 'sent');
  assert.deepEqual(box.attempts(id).map((a) => [a.ok, a.detail]), [[1, '250 queued']]);
});

test('failures are retried with exponential backoff, every attempt recorded, until delivered', async () => {
  const deliver = scripted(fail(), fail(), fail(), ok);
  const box = outbox(deliver);
  const [id] = box.enqueue(null, 'raised', ['email']);
  const start = clock.now();
  for (const wait of [0, 1000, 2000, 4000]) {
    clock.advance(wait);
    box.runDue();
    await box.settled();
  }
  const row = box.get(id)!;
  assert.equal(row.status, 'sent');
  assert.equal(row.attempts, 4);
  assert.deepEqual(box.attempts(id).map((a) => a.at - start), [0, 1000, 3000, 7000]);
  assert.deepEqual(box.attempts(id).map((a) => a.ok), [0, 0, 0, 1]);
});

test('nothing is retried before its backoff has passed', async () => {
  const box = outbox(scripted(fail(), ok));
  const [id] = box.enqueue(null, 'raised', ['email']);
  box.runDue();
  await box.settled();
  clock.advance(999);
  assert.equal(box.runDue(), 0);
  clock.advance(1);
  assert.equal(box.runDue(), 1);
  await box.settled();
  assert.equal(box.get(id)!.status, 'sent');
});

test('after the last allowed attempt, or at once when not retryable, the notification is failed', async () => {
  const box = outbox(scripted(fail()));
  const [id] = box.enqueue(null, 'raised', ['sms']);
  for (let i = 0; i < 10; i++) {
    box.runDue();
    await box.settled();
    clock.advance(10_000);
  }
  assert.deepEqual([box.get(id)!.status, box.get(id)!.attempts], ['failed', 5]);
  const [other] = box.enqueue(null, 'raised', ['sms']);
  const refusing = outbox(scripted({ ok: false, detail: 'isv.BUSINESS_LIMIT_CONTROL', retryable: false }));
  refusing.runDue();
  await refusing.settled();
  assert.deepEqual([box.get(other)!.status, box.get(other)!.last_error], ['failed', 'isv.BUSINESS_LIMIT_CONTROL']);
});

test('a channel failing three times in a row is reported, and reported recovered when it delivers', async () => {
  const events: string[] = [];
  const box = outbox(scripted(fail('timeout'), fail('timeout'), fail('timeout'), ok), {
    onChannelFailing: (channel, detail) => events.push(`failing:${channel}:${detail}`),
    onChannelRecovered: (channel) => events.push(`recovered:${channel}`),
  });
  box.enqueue(null, 'raised', ['webhook']);
  for (let i = 0; i < 4; i++) {
    box.runDue();
    await box.settled();
    clock.advance(60_000);
  }
  assert.deepEqual(events, ['failing:webhook:timeout', 'recovered:webhook']);
});

test('a channel that never answers times out and holds only its own slots; other channels deliver', async () => {
  const never: Deliver = (row, signal) =>
    row.channel === 'dingtalk' ? new Promise(() => void signal) : Promise.resolve(ok);
  const box = outbox(never, { timeoutMs: 200, perChannelConcurrency: 2 });
  const hung = box.enqueue(null, 'raised', ['dingtalk', 'dingtalk', 'dingtalk']);
  const [mail] = box.enqueue(null, 'raised', ['email']);
  assert.equal(box.runDue(), 3, 'two dingtalk slots and the e-mail');
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(box.get(mail)!.status, 'sent', 'the e-mail did not wait for the hung webhook');
  await box.settled();
  assert.deepEqual(box.attempts(hung[0]).map((a) => a.detail), ['no answer within 200 ms']);
  assert.equal(box.get(hung[0])!.status, 'pending', 'retried later');
  await box.stop();
});
