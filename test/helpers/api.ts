// Test helpers for the LAN API: an in-process appliance with a known admin password, inject()
// calls with a token, and a user per role.
import { after, before } from 'node:test';
import WebSocket from 'ws';
import type { ServerMessage } from '../../appliance/contract/live.ts';
import type { Role } from '../../appliance/contract/users.ts';
import { startApp, type RunningApp } from './appliance.ts';

type StartOptions = Parameters<typeof startApp>[1];

export const ADMIN_PASSWORD = 'admin-secret-1';

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
  payload?: string | Buffer;
}

export interface ApiApp extends RunningApp {
  call(method: string, url: string, options?: CallOptions): Promise<{ status: number; body: any; headers: Record<string, unknown>; text: string }>;
  login(username: string, password: string): Promise<string>;
  /** Tokens of `admin` and of a user created per role. */
  tokens: Record<Role, string>;
  http: string;
}

export async function startApi(overrides: Record<string, unknown> = {}, options: StartOptions = {}): Promise<ApiApp> {
  const running = await startApp({ admin: { password: ADMIN_PASSWORD }, ...overrides }, options);
  const { app } = running;
  const call: ApiApp['call'] = async (method, url, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await app.api.inject({
      method: method as 'GET', url, headers,
      ...(options.payload !== undefined ? { payload: options.payload } : options.body !== undefined ? { payload: options.body as object } : {}),
      remoteAddress: headers['x-test-ip'] ?? '127.0.0.1',
    });
    let body: unknown = null;
    try {
      body = JSON.parse(response.body);
    } catch {
      body = null;
    }
    return { status: response.statusCode, body, headers: response.headers, text: response.body };
  };
  const login = async (username: string, password: string) => {
    const response = await call('POST', '/api/auth/login', { body: { username, password } });
    if (response.status !== 200) throw new Error(`login ${username}: ${response.status} ${response.text}`);
    return response.body.access_token as string;
  };
  const admin = await login('admin', ADMIN_PASSWORD);
  const tokens = { admin } as Record<Role, string>;
  for (const role of ['operator', 'viewer'] as const) {
    await call('POST', '/api/users', { token: admin, body: { username: role, role, password: `${role}-pass-1` } });
    const first = await login(role, `${role}-pass-1`);
    await call('POST', '/api/auth/password', { token: first, body: { current_password: `${role}-pass-1`, new_password: `${role}-pass-2` } });
    tokens[role] = await login(role, `${role}-pass-2`);
  }
  return { ...running, call, login, tokens, http: `http://127.0.0.1:${app.summary().http}` };
}

/**
 * The appliance the tests of a file share (or of the describe() this is called in): started by
 * `startApi` before the first test, stopped after the last. Use it inside tests and hooks; read
 * before the hook ran, it says so instead of giving undefined.
 */
export function apiForTheseTests(overrides: Record<string, unknown> = {}, options: StartOptions = {}): ApiApp {
  let running: ApiApp | null = null;
  before(async () => {
    running = await startApi(overrides, options);
  });
  after(() => running?.stop());
  return new Proxy({} as ApiApp, {
    get(_, key) {
      if (!running) throw new Error(`the shared appliance starts in before(): api.${String(key)} is read too early`);
      return running[key as keyof ApiApp];
    },
  });
}

/** A real WebSocket client on /ws/dashboard (API-6), as the kiosk opens it; it keeps every message. */
export function openDashboard(api: ApiApp, token: string) {
  const messages: ServerMessage[] = [];
  const socket = new WebSocket(`${api.http.replace('http', 'ws')}/ws/dashboard?token=${encodeURIComponent(token)}`);
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return { socket, messages, closed, of: <T extends ServerMessage['type']>(type: T) => messages.filter((m) => m.type === type) as Extract<ServerMessage, { type: T }>[] };
}
