// Issue 4's API figures under load (`npm run bench -- --api-probe`): while the detectors report,
// N WebSocket dashboard clients stay connected and two requests are timed over and over —
// the first device page (GET /api/devices?page=1&size=50) and one device's 24 h history at
// 1-minute buckets. Reports latency percentiles and what the WebSocket clients received.
import WebSocket from 'ws';

export interface ApiProbeOptions {
  http: string;
  username: string;
  password: string;
  sn: string;
  wsClients: number;
  /** requests per second of each kind */
  rate: number;
  /** timing starts once this many detectors are connected (steady state, not the connect storm) */
  devices: number;
}

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 10) / 10 : null);
  return { n: sorted.length, p50_ms: at(0.5), p99_ms: at(0.99), max_ms: sorted.length ? Math.round(sorted[sorted.length - 1] * 10) / 10 : null };
}

export async function startApiProbe(options: ApiProbeOptions) {
  const login = await fetch(`${options.http}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: options.username, password: options.password }),
  });
  if (!login.ok) throw new Error(`api probe login: ${login.status} ${await login.text()}`);
  const token = ((await login.json()) as { access_token: string }).access_token;
  const headers = { authorization: `Bearer ${token}` };

  const sockets: WebSocket[] = [];
  let wsMessages = 0;
  let wsBytes = 0;
  let wsClosed = 0;
  for (let i = 0; i < options.wsClients; i++) {
    const socket = new WebSocket(`${options.http.replace('http', 'ws')}/ws/dashboard?token=${token}`);
    socket.on('message', (data: Buffer) => {
      wsMessages++;
      wsBytes += data.length;
    });
    socket.on('close', () => wsClosed++);
    sockets.push(socket);
  }

  const latencies = { devices_page: [] as number[], history_24h_1m: [] as number[] };
  const errors: string[] = [];
  async function timed(kind: keyof typeof latencies, url: string) {
    const started = performance.now();
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    if (!response.ok) errors.push(`${kind} ${response.status}`);
    else latencies[kind].push(performance.now() - started);
  }
  let steady = false;
  const waitSteady = setInterval(async () => {
    const health = (await (await fetch(`${options.http}/api/system/health`)).json()) as { broker: { connections: number } };
    if (health.broker.connections >= options.devices) {
      clearInterval(waitSteady);
      steady = true;
    }
  }, 500);
  const timer = setInterval(() => {
    if (!steady) return;
    const end = Date.now();
    const start = new Date(end - 86_400_000).toISOString();
    void timed('devices_page', `${options.http}/api/devices?page=1&size=50`).catch((err) => errors.push(String(err)));
    void timed('history_24h_1m', `${options.http}/api/devices/${options.sn}/history?start=${start}&interval=1m`).catch((err) => errors.push(String(err)));
  }, 1000 / options.rate);

  return {
    stop() {
      clearInterval(timer);
      clearInterval(waitSteady);
      for (const socket of sockets) socket.terminate();
      return {
        ws_clients: options.wsClients, ws_messages: wsMessages, ws_mb: Math.round(wsBytes / 1e5) / 10, ws_closed_early: wsClosed,
        devices_page: percentiles(latencies.devices_page), history_24h_1m: percentiles(latencies.history_24h_1m),
        api_errors: errors.slice(0, 5), api_error_count: errors.length,
      };
    },
  };
}
