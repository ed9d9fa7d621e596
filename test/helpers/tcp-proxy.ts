// A TCP proxy on an ephemeral loopback port in front of a real server, for tests of links that fail
// the way 4G links do: cut() resets every connection and refuses new ones until restore(); freeze()
// keeps the sockets open but passes no more bytes (no FIN, no RST: only a keepalive can find it),
// in both directions or only one ('down': nothing comes back from the server, e.g. no PUBACK);
// slow(bytesPerSecond) throttles both directions. Counters say what the proxy saw.
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface TcpProxyCounters {
  /** Connections passed on to the target. */
  accepted: number;
  /** Connections reset at once because the link was cut. */
  refused: number;
  /** Open connections reset by cut(). */
  reset: number;
  /** Connections open now. */
  active: number;
  /** Bytes passed client → target and target → client. */
  bytesUp: number;
  bytesDown: number;
}

export interface TcpProxyEvent {
  at: number;
  what: 'accepted' | 'refused' | 'reset';
}

export interface TcpProxy {
  port: number;
  counters: TcpProxyCounters;
  /** When each connection was accepted, refused or reset (Date.now()). */
  events: TcpProxyEvent[];
  cut(): void;
  freeze(direction?: FreezeDirection): void;
  slow(bytesPerSecond: number): void;
  /** Back to normal: not cut, not frozen, not slowed (frozen connections pass their bytes again). */
  restore(): void;
  close(): Promise<void>;
}

/** 'up': client → server, 'down': server → client. */
export type FreezeDirection = 'both' | 'up' | 'down';

interface Pair {
  client: Socket;
  upstream: Socket;
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1';
  const counters: TcpProxyCounters = { accepted: 0, refused: 0, reset: 0, active: 0, bytesUp: 0, bytesDown: 0 };
  const pairs = new Set<Pair>();
  const events: TcpProxyEvent[] = [];
  let cutting = false;
  let frozen: FreezeDirection | null = null;
  // The socket read from when bytes go up (the client) or down (the server) is the one paused.
  const freezes = (direction: 'up' | 'down') => frozen === 'both' || frozen === direction;
  const applyFreeze = (pair: Pair) => {
    if (freezes('up')) pair.client.pause();
    if (freezes('down')) pair.upstream.pause();
  };
  let bytesPerSecond = 0;

  function pass(from: Socket, to: Socket, counter: 'bytesUp' | 'bytesDown'): void {
    const direction = counter === 'bytesUp' ? 'up' : 'down';
    from.on('data', (chunk: Buffer) => {
      if (bytesPerSecond > 0) {
        from.pause();
        setTimeout(() => {
          if (to.destroyed) return;
          counters[counter] += chunk.length;
          to.write(chunk);
          if (!freezes(direction)) from.resume();
        }, (chunk.length / bytesPerSecond) * 1000);
        return;
      }
      counters[counter] += chunk.length;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!freezes(direction)) from.resume();
        });
      }
    });
  }

  const server = createServer((client) => {
    if (cutting) {
      counters.refused += 1;
      events.push({ at: Date.now(), what: 'refused' });
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    counters.accepted += 1;
    counters.active += 1;
    events.push({ at: Date.now(), what: 'accepted' });
    const upstream = connect(target.port, host);
    const pair: Pair = { client, upstream };
    pairs.add(pair);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      counters.active -= 1;
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
    pass(client, upstream, 'bytesUp');
    pass(upstream, client, 'bytesDown');
    applyFreeze(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as AddressInfo).port,
    counters,
    events,
    cut() {
      cutting = true;
      for (const pair of [...pairs]) {
        counters.reset += 1;
        events.push({ at: Date.now(), what: 'reset' });
        pair.client.resetAndDestroy();
        pair.upstream.destroy();
      }
    },
    freeze(direction = 'both') {
      frozen = direction;
      for (const pair of pairs) applyFreeze(pair);
    },
    slow(rate) {
      bytesPerSecond = rate;
    },
    restore() {
      cutting = false;
      frozen = null;
      bytesPerSecond = 0;
      for (const pair of pairs) {
        pair.client.resume();
        pair.upstream.resume();
      }
    },
    async close() {
      for (const pair of [...pairs]) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
