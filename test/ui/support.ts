// UI test support: a real appliance in-process on fixed loopback ports chosen at random (so the
// "stop it and start it again" test can bring it back on the same ports and data dir), on the
// real clock (the kiosk judges staleness against the server's time), plus headless Chromium
// driven by playwright-core, and screenshots under test-output/screenshots/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp, type App } from '../../appliance/app.ts';
import { systemClock } from '../../appliance/core/clock.ts';
import { silentLogger } from '../../appliance/core/log.ts';
import { writeDevLicense } from '../../licensing/dev-license.ts';
import { buildUi } from '../../ui/build.ts';
import { connectDevice, freePort, publishReading, ROOT, testConfig, type Reading } from '../helpers/appliance.ts';
import { ADMIN_PASSWORD } from '../helpers/api.ts';

export { ADMIN_PASSWORD };
export const SCREENSHOTS = join(ROOT, 'test-output', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** ARCHITECTURE: the flags that make Debian's chromium run headless in a container. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface UiAppliance {
  app: App;
  http: string;
  mqttUrl: string;
  dataDir: string;
  ports: { http: number; mqtt: number };
  /** Stops the appliance, keeping its data dir (for a restart). */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data dir. */
  restart(): Promise<void>;
  /** Stops it and removes the data dir. */
  dispose(): Promise<void>;
  api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  adminToken: string;
}

let uiBuilt: Promise<unknown> | null = null;
/** The tests run against the current UI source: one build per test file (under a second). */
export const ensureUi = () => (uiBuilt ??= buildUi());

/** `licensedDevices`: more than evaluation's 10 devices, with an offline development license (licensing/dev-license.ts). */
export async function startUiAppliance(overrides: Record<string, unknown> = {}, options: { licensedDevices?: number } = {}): Promise<UiAppliance> {
  await ensureUi();
  const dataDir = mkdtempSync(join(tmpdir(), 'mcs-ui-'));
  const ports = { http: await freePort(), mqtt: await freePort() };
  const license = options.licensedDevices ? writeDevLicense(dataDir, options.licensedDevices) : null;
  const config = testConfig(dataDir, {
    http: { port: ports.http, host: '127.0.0.1' }, mqtt: { port: ports.mqtt, host: '127.0.0.1' }, admin: { password: ADMIN_PASSWORD },
    ...(license ? { license: { machine_id: license.machineId } } : {}), ...overrides,
  });
  let app: App | null = null;
  const start = async () => {
    app = createApp({ config, log: silentLogger(), clock: systemClock, licensePublicKeyPem: license?.publicPem });
    await app.start();
  };
  await start();
  const http = `http://127.0.0.1:${ports.http}`;
  const api: UiAppliance['api'] = async (method, path, body, token) => {
    const response = await fetch(`${http}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* CSV and the like */
    }
    return { status: response.status, body: parsed as any };
  };
  const login = await api<{ access_token: string }>('POST', '/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
  const running: UiAppliance = {
    get app() {
      return app!;
    },
    http,
    mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
    dataDir,
    ports,
    api,
    adminToken: login.body.access_token,
    stop: async () => {
      if (app) await app.stop();
      app = null;
    },
    restart: start,
    dispose: async () => {
      if (app) await app.stop();
      app = null;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return running;
}

/** `autoplay`: a kiosk as the README sets it up (--autoplay-policy=no-user-gesture-required), sounding without a tap. */
export async function launchBrowser(options: { autoplay?: boolean } = {}): Promise<Browser> {
  const args = options.autoplay ? [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'] : CHROMIUM_ARGS;
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

/** Fills the admin login form of `page` (already on /admin) and submits it. */
async function submitLogin(page: Page, username: string, password: string): Promise<void> {
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
}

/** Opens /admin on `page` and signs in as admin through the login form, up to the overview. */
export async function signInAsAdmin(page: Page, appliance: UiAppliance): Promise<void> {
  await page.goto(`${appliance.http}/admin`);
  await submitLogin(page, 'admin', ADMIN_PASSWORD);
  await page.locator('[data-page="overview"]').waitFor();
}

/**
 * A viewer `username` created over the API, signed in on a page of its own (close its context when
 * done): the first login forces a new password before anything else (API-4), then the overview.
 */
export async function signInAsNewViewer(browser: Browser, appliance: UiAppliance, username: string): Promise<Page> {
  await appliance.api('POST', '/api/users', { username, role: 'viewer', password: 'first-pass-1' }, appliance.adminToken);
  const page = await (await browser.newContext({ viewport: FULL_HD, locale: 'en-GB' })).newPage();
  await page.goto(`${appliance.http}/admin`);
  await submitLogin(page, username, 'first-pass-1');
  const change = page.locator('form[data-form="password-change"]');
  await change.waitFor();
  await change.locator('input[name=new_password]').fill(`${username}-pass-2`);
  await change.locator('input[name=new_password_again]').fill(`${username}-pass-2`);
  await change.locator('button[type=submit]').click();
  await page.locator('.admin[data-role="viewer"] [data-page="overview"]').waitFor();
  return page;
}

/** Real detectors of a UI test on the appliance's broker, one MQTT client each. */
export interface UiDetectors {
  /** Registers each device over the API, connects it with its generated password and sends a first normal reading. */
  register(appliance: UiAppliance, devices: ({ sn: string } & Record<string, unknown>)[]): Promise<void>;
  /** Sends `sn`'s next reading (now, the next sequence number); resolves on the PUBACK: it and its alarm consequences are stored (ING-6). */
  send(sn: string, fields: Partial<Reading>): Promise<unknown>;
  /** Disconnects them all. */
  close(): Promise<void>;
}

export function uiDetectors(): UiDetectors {
  const clients = new Map<string, MqttClient>();
  let seq = 1;
  const send: UiDetectors['send'] = (sn, fields) => publishReading(clients.get(sn)!, sn, { ts: Math.floor(Date.now() / 1000), seq: seq++, ...fields });
  return {
    send,
    async register(appliance, devices) {
      for (const device of devices) {
        const created = await appliance.api('POST', '/api/devices', device, appliance.adminToken);
        assert.equal(created.status, 201, JSON.stringify(created.body));
        clients.set(device.sn, await connectDevice(appliance.mqttUrl, device.sn, created.body.password));
        await send(device.sn, { v_raw: 10 });
      }
    },
    close: async () => {
      await Promise.all([...clients.values()].map((client) => client.endAsync()));
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Blinking markers are captured in their "on" phase (the animation is reset for the shot only).
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), animations: 'disabled' });
}

export const FULL_HD = { width: 1920, height: 1080 };
export const PHONE = { width: 390, height: 844 };

/** A fresh temp dir for a test's own files (a floor-plan image). */
export function scratchDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mcs-ui-scratch-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A made-up plant floor plan as a PNG (drawn by the browser itself): rooms with names. */
export async function floorPlanPng(browser: Browser): Promise<Buffer> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
  const room = (x: number, y: number, w: number, h: number, name: string) =>
    `<div style="position:absolute;left:${x}%;top:${y}%;width:${w}%;height:${h}%;border:6px solid #5b6b7f;background:#e8edf2;font:600 34px sans-serif;color:#5b6b7f;display:flex;align-items:flex-end;padding:12px">${name}</div>`;
  await page.setContent(`<body style="margin:0;background:#cfd8e3;width:1600px;height:900px;position:relative">
    ${room(2, 3, 40, 45, 'Boiler room')}${room(44, 3, 54, 45, 'Gas storage')}${room(2, 52, 30, 45, 'Workshop')}${room(34, 52, 64, 45, 'Assembly hall')}</body>`);
  const png = await page.screenshot({ type: 'png' });
  await page.close();
  return png;
}

/** The centre of an element as percent of the floor-plan layer. */
export async function percentOnPlan(page: Page, selector: string, layerSelector = '.plan-layer'): Promise<{ x: number; y: number }> {
  const layer = (await page.locator(layerSelector).boundingBox())!;
  const box = (await page.locator(selector).boundingBox())!;
  return { x: ((box.x + box.width / 2 - layer.x) / layer.width) * 100, y: ((box.y + box.height / 2 - layer.y) / layer.height) * 100 };
}

/** Presses on `from`, moves in steps, releases at (x %, y %) of the plan layer: a real pointer drag. */
export async function dragToPlan(page: Page, from: string, x: number, y: number): Promise<void> {
  const start = (await page.locator(from).boundingBox())!;
  const layer = (await page.locator('.editor-plan .plan-layer').boundingBox())!;
  await page.mouse.move(start.x + start.width / 2, start.y + start.height / 2);
  await page.mouse.down();
  await page.mouse.move(layer.x + (layer.width * x) / 100, layer.y + (layer.height * y) / 100, { steps: 8 });
  await page.mouse.up();
}

/**
 * A TCP proxy in front of the appliance that can freeze: connections stay open but no byte moves,
 * which is what a half-open link (a cable pulled between switch and server) looks like to a
 * browser — no close, just silence.
 */
export async function freezableProxy(targetPort: number) {
  const { createServer, connect } = await import('node:net');
  let frozen = false;
  const pairs = new Set<{ client: import('node:net').Socket; upstream: import('node:net').Socket }>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const forward = (from: import('node:net').Socket, to: import('node:net').Socket) =>
      from.on('data', (chunk) => {
        if (!frozen) to.write(chunk); // frozen: bytes are swallowed, nothing is closed
      });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    freeze: () => (frozen = true),
    thaw: () => (frozen = false),
    close: async () => {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The loudest sample the kiosk sent to its speakers over `ms` (window.__kioskAudio, an AnalyserNode); -1 without audio. */
export async function loudness(page: Page, ms: number): Promise<number> {
  return page.evaluate(async (duration) => {
    const probe = (globalThis as any).__kioskAudio;
    if (!probe) return -1;
    let peak = 0;
    const end = performance.now() + duration;
    while (performance.now() < end) {
      peak = Math.max(peak, probe.level());
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return peak;
  }, ms);
}
