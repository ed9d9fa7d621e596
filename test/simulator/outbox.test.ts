// The readings not yet acknowledged: kept while offline up to a limit (oldest dropped), resent
// first and in order on reconnect, in-flight ones requeued when the link closes (ING-4 dedupes
// on the server), acknowledgements of a link no longer in use ignored, all lost on reboot.
// Fast: a link whose publishes the test settles by hand stands in for the MQTT session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Link } from '../../simulator/link.ts';
import { createOutbox } from '../../simulator/outbox.ts';
import type { PublishOutcome } from '../../simulator/types.ts';

interface Published {
  payload: string;
  settle(outcome: PublishOutcome): void;
}

/** A connected link that records publishes and settles them when the test says so; `lose` cuts it. */
function handLink() {
  const published: Published[] = [];
  let connected = true;
  const link: Link = {
    get connected() {
      return connected;
    },
    publishUp: (payload) => new Promise((settle) => published.push({ payload: String(payload), settle })),
    publish: () => Promise.resolve('failed'),
    drop: () => {},
    close: () => Promise.resolve(),
  };
  return { link, published, payloads: () => published.map((p) => p.payload), lose: () => (connected = false) };
}

function setup(limit = 5000) {
  let current: Link | null = null;
  const logs: string[] = [];
  const outbox = createOutbox({ currentLink: () => current, qos: 1, limit, log: (line) => logs.push(line) });
  const use = (link: Link | null) => (current = link);
  return { outbox, logs, use };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

test('offline readings wait, the oldest are dropped beyond the limit, and all go out oldest first on reconnect', async () => {
  const { outbox, logs, use } = setup(3);
  assert.equal(outbox.sendsDirectly(), false, 'no link');
  for (const r of ['r1', 'r2', 'r3', 'r4', 'r5']) outbox.keep(r);
  assert.equal(outbox.buffered, 3);
  assert.equal(outbox.counts().dropped, 2);
  const a = handLink();
  use(a.link);
  assert.equal(outbox.sendsDirectly(), false, 'older readings still wait');
  outbox.resendBacklog();
  assert.deepEqual(a.payloads(), ['r3', 'r4', 'r5']);
  assert.deepEqual(logs, ['resending 3 buffered readings']);
  assert.equal(outbox.buffered, 0);
  assert.equal(outbox.sendsDirectly(), true);
  a.published.forEach((p) => p.settle('acked'));
  await settled();
  assert.deepEqual(outbox.counts(), { sent: 3, acked: 3, dropped: 2 });
});

test('readings in flight when the link closes are resent ahead of the ones kept since', async () => {
  const { outbox, use } = setup();
  const a = handLink();
  use(a.link);
  outbox.send('r1');
  outbox.send('r2');
  outbox.send('r2'); // the same bytes twice are still two readings
  a.published[0].settle('acked');
  await settled();
  a.lose(); // the socket is gone, the close not yet handled: a reading taken now waits
  assert.equal(outbox.sendsDirectly(), false);
  outbox.keep('r3');
  use(null);
  outbox.requeueInflight();
  a.published.slice(1).forEach((p) => p.settle('failed'));
  outbox.keep('r4');
  const b = handLink();
  use(b.link);
  outbox.resendBacklog();
  assert.deepEqual(b.payloads(), ['r2', 'r2', 'r3', 'r4']);
  b.published.forEach((p) => p.settle('acked'));
  await settled();
  assert.deepEqual(outbox.counts(), { sent: 7, acked: 5, dropped: 0 });
});

test('an acknowledgement arriving from a link no longer in use does not count', async () => {
  const { outbox, use } = setup();
  const a = handLink();
  use(a.link);
  outbox.send('r1');
  use(handLink().link);
  a.published[0].settle('acked');
  await settled();
  assert.equal(outbox.counts().acked, 0);
});

test('without a link a reading sent is kept; a clean goodbye forgets what was in flight; a reboot empties the queue', async () => {
  const { outbox, use } = setup();
  outbox.send('r1');
  assert.equal(outbox.buffered, 1);
  assert.equal(outbox.counts().sent, 0);
  const a = handLink();
  use(a.link);
  outbox.send('r2');
  outbox.forgetInflight();
  use(null);
  outbox.requeueInflight();
  assert.equal(outbox.buffered, 1, 'r2 was forgotten, not requeued');
  outbox.discard();
  assert.equal(outbox.buffered, 0);
});
