// Real local servers for the channel tests: loopback, ephemeral ports, closed with every socket.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import type { AlarmNotice } from '../../appliance/notify/message.ts';
import { AppError } from '../../appliance/core/errors.ts';

export interface Received {
  method: string;
  url: URL;
  /** The raw request target, before any decoding. */
  rawUrl: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type Answer = { status?: number; json?: unknown; text?: string; headers?: Record<string, string> } | 'never';

export interface LocalHttpServer {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** A real HTTP server; `answer` decides the reply ('never' leaves the request hanging). */
export async function startHttpServer(answer: (request: Received) => Answer): Promise<LocalHttpServer> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: Received = {
        method: req.method ?? '',
        url: new URL(req.url ?? '/', 'http://127.0.0.1'),
        rawUrl: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(request);
      const reply = answer(request);
      if (reply === 'never') return;
      const body = reply.text ?? (reply.json === undefined ? '' : JSON.stringify(reply.json));
      res.writeHead(reply.status ?? 200, { 'content-type': reply.json === undefined ? 'text/plain' : 'application/json', ...reply.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nobody listens on: connections are refused at once. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const notice: AlarmNotice = {
  alarmId: 42,
  event: 'raised',
  type: 'HIGH',
  sn: 'A001',
  deviceName: '1号车间探测器',
  location: '一车间东侧',
  value: 3516.1,
  limit: 1000,
  unit: 'ppm',
  at: Date.UTC(2026, 0, 1, 0, 30, 5),
};

/** Asserts an AppError with `code` whose detail (a list) names each of the `paths`. */
export function assertAppError(err: unknown, code: number, paths: string[] = []): true {
  assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (paths.length) {
    assert.ok(Array.isArray(err.detail), 'detail lists the problems');
    const problems = err.detail as string[];
    for (const path of paths) {
      assert.ok(problems.some((p) => p.startsWith(`${path}:`)), `no problem for '${path}' in: ${problems.join(' | ')}`);
    }
  }
  return true;
}
