// Issue 4's API figures under load (`npm run bench -- --api-probe`): while the detectors report,
// N WebSocket dashboard clients stay connected and two requests are timed over and over —
// the first device page (GET /api/devices?page=1&size=50) and one device's 24 h history at
// 1-minute buckets. Reports latency percentiles and what the WebSocket clients received (they run
// in their own process: receiving megabytes a second must not delay the timed requests).
import { spawn } from 'node:child_process';

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

/** The appliance answers HTTP once it has started (a loaded box may take a few seconds). */
async function waitForHttp(http: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${http}/api/system/health`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`api probe: ${http} did not answer within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function startApiProbe(options: ApiProbeOptions) {
  await waitForHttp(options.http);
  const login = await fetch(`${options.http}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: options.username, password: options.password }),
  });
  if (!login.ok) throw new Error(`api probe login: ${login.status} ${await login.text()}`);
  const token = ((await login.json()) as { access_token: string }).access_token;
  const headers = { authorization: `Bearer ${token}` };

  const wsClients = spawn(process.execPath, [
    '--import', 'tsx', new URL('./ws-clients.ts', import.meta.url).pathname,
    '--url', options.http.replace('http', 'ws'), '--token', token, '--clients', String(options.wsClients),
  ], { stdio: ['pipe', 'pipe', 'inherit'] });
  let wsOutput = '';
  wsClients.stdout.on('data', (chunk) => (wsOutput += chunk));
  const wsReport = new Promise<Record<string, number>>((resolve) => wsClients.on('exit', () => resolve(JSON.parse(wsOutput.trim() || '{}'))));

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
    async stop() {
      clearInterval(timer);
      clearInterval(waitSteady);
      wsClients.stdin.end();
      return {
        ...(await wsReport),
        devices_page: percentiles(latencies.devices_page), history_24h_1m: percentiles(latencies.history_24h_1m),
        api_errors: errors.slice(0, 5), api_error_count: errors.length,
      };
    },
  };
}
