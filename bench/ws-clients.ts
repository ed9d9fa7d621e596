// N dashboard WebSocket clients in their own process (used by the API probe, so receiving their
// traffic does not delay the process that times API requests). Prints one JSON line of what they
// received when stdin closes or on SIGTERM.
import WebSocket from 'ws';
import { benchArgs } from './args.ts';

const USAGE = `Usage: node --import tsx bench/ws-clients.ts --url ws://HOST:PORT --token TOKEN [--clients N]

N dashboard WebSocket clients (started by the API probe of npm run bench -- --api-probe). Prints one
JSON line of what they received when stdin closes or on SIGTERM.`;

const values = benchArgs('ws-clients', USAGE, { url: { type: 'string' }, token: { type: 'string' }, clients: { type: 'string', default: '50' } });
let messages = 0;
let bytes = 0;
let closed = 0;
const sockets: WebSocket[] = [];
for (let i = 0; i < Number(values.clients); i++) {
  const socket = new WebSocket(`${values.url}/ws/dashboard?token=${values.token}`);
  socket.on('message', (data: Buffer) => {
    messages++;
    bytes += data.length;
  });
  socket.on('close', () => closed++);
  socket.on('error', () => {});
  sockets.push(socket);
}
function report() {
  process.stdout.write(JSON.stringify({ ws_clients: sockets.length, ws_messages: messages, ws_mb: Math.round(bytes / 1e5) / 10, ws_closed_early: closed }) + '\n');
  for (const socket of sockets) socket.terminate();
  process.exit(0);
}
process.stdin.on('end', report);
process.stdin.resume();
process.on('SIGTERM', report);
