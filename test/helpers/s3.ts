// A real S3-compatible server for archive tests: s3rver in-process on an ephemeral loopback port,
// its data in a temp dir. It accepts the credentials S3RVER / S3RVER and checks signatures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';

export interface TestS3 {
  endpoint: string;
  port: number;
  bucket: string;
  /** Storage settings (API input) pointing at this server. */
  settings(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** Stops the server (keeping its data) — "S3 unreachable". */
  kill(): Promise<void>;
  /** Listens to each HTTP request the server receives (to fail mid-upload). */
  onRequest(listener: (req: { method?: string; url?: string }) => void): void;
  /**
   * From now on, a request `matches` picks is read to its end and never answered (the connection
   * stays open): a response lost on the way, as a busy or broken S3 endpoint does. Resolves `held`.
   */
  swallow(matches: (req: { method?: string; url?: string }) => boolean): { held: Promise<{ method?: string; url?: string; bodyBytes: number }> };
  /** Starts it again on the same port and data. */
  revive(): Promise<void>;
  stop(): Promise<void>;
}

export async function startS3(bucket = 'mcs-archive', port = 0): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'mcs-s3-'));
  const make = (p: number) => new S3rver({ port: p, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket, configs: [] }] });
  let server = make(port);
  const address = (await server.run()) as { port: number };
  let running = true;
  const endpoint = `http://127.0.0.1:${address.port}`;
  const kill = async () => {
    if (!running) return;
    running = false;
    server.httpServer?.closeAllConnections?.();
    await server.close();
  };
  return {
    endpoint,
    port: address.port,
    bucket,
    settings: (overrides = {}) => ({
      enabled: true, endpoint, region: 'us-east-1', bucket, access_key_id: 'S3RVER', secret_access_key: 'S3RVER', prefix: '', force_path_style: true, ...overrides,
    }),
    kill,
    onRequest(listener: (req: { method?: string; url?: string }) => void) {
      server.httpServer.on('request', listener);
    },
    swallow(matches) {
      const http = server.httpServer as import('node:http').Server;
      const handlers = http.listeners('request') as ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void)[];
      http.removeAllListeners('request');
      let resolveHeld!: (req: { method?: string; url?: string; bodyBytes: number }) => void;
      const held = new Promise<{ method?: string; url?: string; bodyBytes: number }>((resolve) => (resolveHeld = resolve));
      http.on('request', (req, res) => {
        if (!matches(req)) {
          for (const handler of handlers) handler.call(http, req, res);
          return;
        }
        let bodyBytes = 0;
        req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
        req.on('end', () => resolveHeld({ method: req.method, url: req.url, bodyBytes }));
      });
      return { held };
    },
    async revive() {
      if (running) return;
      server = make(address.port);
      await server.run();
      running = true;
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A server for the enclosing describe(): started before its first test, stopped after its last. */
export function s3ForSuite(): () => TestS3 {
  let s3: TestS3 | null = null;
  before(async () => {
    s3 = await startS3();
  });
  after(async () => {
    await s3?.stop();
  });
  return () => {
    if (!s3) throw new Error('the S3 server starts in the suite\'s before hook');
    return s3;
  };
}
