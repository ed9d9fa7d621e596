// Licensing test kit: a fresh vendor key pair per test file, licenses signed with it, and the real
// license server (licensing/server) on a loopback ephemeral port with its SQLite file in a temp dir.
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { signLicense, type License } from '../../licensing/license-file.ts';
import { generateVendorKeyPair, privateKeyFromPem, publicKeyFromPem } from '../../licensing/signing.ts';
import { createLicenseServer } from '../../licensing/server/server.ts';
import { openLicenseStore, type LicenseStore } from '../../licensing/server/store.ts';

export const MACHINE_A = 'a'.repeat(8) + '0123456789abcdef0123456789ab'.slice(0, 24);
export const MACHINE_B = 'b'.repeat(8) + '0123456789abcdef0123456789ab'.slice(0, 24);

export interface VendorKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
}

export function vendorKeys(): VendorKeys {
  const { privatePem, publicPem } = generateVendorKeyPair();
  return { privateKey: privateKeyFromPem(privatePem), publicKey: publicKeyFromPem(publicPem), publicPem };
}

let serial = 0;
export function licenseFields(overrides: Partial<License> = {}): License {
  serial++;
  return {
    license_key: `MCS-TEST-${String(serial).padStart(4, '0')}-ABCD`,
    customer: 'Test Chemical Plant',
    max_devices: 100,
    expire_date: '2027-12-31',
    machine_id: MACHINE_A,
    features: [],
    issued_at: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** A signed license file's text (and its fields). */
export function issue(keys: VendorKeys, overrides: Partial<License> = {}): { license: License; text: string } {
  const license = licenseFields(overrides);
  return { license, text: signLicense(license, keys.privateKey) };
}

export interface RunningLicenseServer {
  url: string;
  port: number;
  store: LicenseStore;
  app: FastifyInstance;
  /** Stops listening (the appliance then finds it unreachable); the store stays open. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startLicenseServer(keys: VendorKeys, options: { now?: () => number; port?: number } = {}): Promise<RunningLicenseServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mcs-license-server-'));
  const store = openLicenseStore(join(dir, 'licenses.db'));
  let app = createLicenseServer({ store, privateKey: keys.privateKey, now: options.now });
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const port = (app.server.address() as AddressInfo).port;
  let listening = true;
  const server: RunningLicenseServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    store,
    get app() {
      return app;
    },
    async down() {
      if (!listening) return;
      await app.close();
      listening = false;
    },
    async up() {
      if (listening) return;
      app = createLicenseServer({ store, privateKey: keys.privateKey, now: options.now });
      await app.listen({ host: '127.0.0.1', port });
      listening = true;
    },
    async close() {
      await server.down();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}
