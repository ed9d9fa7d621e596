// Real local servers for the channel tests: loopback, ephemeral ports, closed with every socket;
// and a real SQLite file with a hand-driven clock for each outbox, escalation and storm test.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { beforeEach } from 'node:test';
import type { AlarmNotice } from '../../appliance/notify/message.ts';
import { AppError } from '../../appliance/core/errors.ts';
import { manualClock } from '../../appliance/core/clock.ts';
import type { Outbox } from '../../appliance/notify/outbox.ts';
import type { Db } from '../../appliance/storage/db.ts';
import { tempDbForEachTest, type TempDb } from '../helpers/temp-db.ts';

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

/**
 * The outbox, escalation and storm tests' ground: for each test a fresh migrated SQLite file
 * (tempDbForEachTest) and the hand-driven `clock`, one object set back to `start` before each test.
 */
export function dbAndClockForEachTest(start: number): TempDb & { readonly clock: ReturnType<typeof manualClock> } {
  const sqlite = tempDbForEachTest();
  const clock = manualClock(start);
  beforeEach(() => clock.set(start));
  return {
    get db() {
      return sqlite.db;
    },
    get dir() {
      return sqlite.dir;
    },
    reopen: () => sqlite.reopen(),
    clock,
  };
}

/** Runs the outbox's due rows, round after round, until none is left due at the clock's time. */
export async function drainOutbox(box: Outbox): Promise<void> {
  while (box.runDue()) await box.settled();
}

/** The alarm's journal entries of its notifications, in order: which channel, and what came of it. */
export const notificationJournal = (db: Db, alarmId: number) =>
  db.prepare<[number], { actor: string; detail: string }>("SELECT actor, detail FROM alarm_journal WHERE alarm_id = ? AND kind = 'notification' ORDER BY id").all(alarmId);

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

// ---- ALM-13: an Aliyun RPC gateway (voice: dyvmsapi) that checks requests the way Aliyun does ----
// Written from Aliyun's signature documentation, not from the client code.

/** Percent-encodes every UTF-8 byte except A-Z a-z 0-9 - _ . ~ (upper-case hex). */
export function aliyunSpecEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export interface AliyunGateway extends LocalHttpServer {
  /** The parameters of each request whose signature, timestamp and nonce were right. */
  accepted: Map<string, string>[];
  /** Every answer's Code, in order (SignatureDoesNotMatch, OK, …). */
  codes: string[];
}

/**
 * A local Aliyun RPC endpoint: refuses a wrong signature (HMAC-SHA1 over `GET&%2F&<canonical
 * query>` with `secret&`), a stale timestamp and a reused nonce like the real one; `business`
 * answers the requests that pass (default: OK with a CallId).
 */
export async function startAliyunGateway(
  accessKeys: Record<string, string>,
  business: (params: Map<string, string>) => { status: number; json: Record<string, string> } = () => ({ status: 200, json: { Code: 'OK', Message: 'OK', CallId: '116012354148^10281378****', RequestId: 'D9CB3933-9FE3-4870-BA8E-2BEE91B69D23' } }),
): Promise<AliyunGateway> {
  const accepted: Map<string, string>[] = [];
  const codes: string[] = [];
  const nonces = new Set<string>();
  const verdict = (request: Received): { status: number; json: Record<string, string> } => {
    const query = request.rawUrl.slice(request.rawUrl.indexOf('?') + 1);
    const params = new Map(query.split('&').map((pair) => pair.split('=').map(decodeURIComponent) as [string, string]));
    const signature = params.get('Signature');
    params.delete('Signature');
    const secret = accessKeys[params.get('AccessKeyId') ?? ''];
    if (secret === undefined) return { status: 404, json: { Code: 'InvalidAccessKeyId.NotFound', Message: 'Specified access key is not found.' } };
    const canonical = [...params.keys()].sort().map((name) => `${aliyunSpecEncode(name)}=${aliyunSpecEncode(params.get(name)!)}`).join('&');
    const expected = createHmac('sha1', `${secret}&`).update(`${request.method}&${aliyunSpecEncode('/')}&${aliyunSpecEncode(canonical)}`).digest('base64');
    if (signature !== expected) return { status: 400, json: { Code: 'SignatureDoesNotMatch', Message: 'Specified signature is not matched with our calculation.' } };
    if (Math.abs(Date.parse(params.get('Timestamp') ?? '') - Date.now()) > 15 * 60_000) {
      return { status: 400, json: { Code: 'InvalidTimeStamp.Expired', Message: 'Specified time stamp or date value is expired.' } };
    }
    const nonce = params.get('SignatureNonce') ?? '';
    if (!nonce || nonces.has(nonce)) return { status: 400, json: { Code: 'SignatureNonceUsed', Message: 'Specified signature nonce was used already.' } };
    nonces.add(nonce);
    accepted.push(params);
    return business(params);
  };
  const server = await startHttpServer((request) => {
    const answer = verdict(request);
    codes.push(answer.json.Code);
    return answer;
  });
  return Object.assign(server, { accepted, codes });
}
