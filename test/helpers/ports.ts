// An ephemeral loopback port for a server a test or benchmark starts (the one definition the test
// helpers and bench/ share; no node:test import, so benchmarks can use it).
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
