#!/usr/bin/env node
// LIC-7: `mcs-license` — the vendor's tool (npm run license -- <command>): create the key pair,
// issue and revoke licenses, list them and their check-ins, and run the license server.
// The private key never leaves the vendor; the appliance ships only the public key.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { LICENSE_KEY_PATTERN, signLicense, type License } from './license-file.ts';
import { isMachineId } from './machine-id.ts';
import { generateVendorKeyPair, privateKeyFromPem } from './signing.ts';
import { createLicenseServer } from './server/server.ts';
import { openLicenseStore } from './server/store.ts';

export const USAGE = `mcs-license — MCS Edge licenses (vendor side)

Usage: npm run license -- <command> [options]

  keygen [--out DIR]                       create the vendor key pair (vendor-private-key.pem, vendor-public-key.pem)
  issue --customer NAME --max-devices N --expires YYYY-MM-DD
        [--machine-id ID] [--features a,b] [--out FILE]
                                           issue a signed license file (to FILE or stdout) and record it
  revoke <license-key> [--reason TEXT]     refuse the license at its next check-in
  list [--json]                            issued licenses, their binding and state
  checkins [<license-key>] [--json]        the check-in log
  serve [--host H] [--port P]              run the license server (POST /api/verify)

Common: --db FILE (default $MCS_LICENSE_DB or ./licenses.db)
        --key FILE (private key; default $MCS_LICENSE_PRIVATE_KEY or ./vendor-private-key.pem)`;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  now?: () => number;
}

const KEY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no 0/O, 1/I
export function newLicenseKey(): string {
  const group = () => Array.from({ length: 4 }, () => KEY_ALPHABET[randomInt(KEY_ALPHABET.length)]).join('');
  return `MCS-${group()}-${group()}-${group()}`;
}

class UsageError extends Error {}

function isDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}

export async function runLicenseCli(argv: string[], io: CliIo): Promise<number> {
  const now = io.now ?? Date.now;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        db: { type: 'string' }, key: { type: 'string' }, out: { type: 'string' }, customer: { type: 'string' },
        'max-devices': { type: 'string' }, expires: { type: 'string' }, 'machine-id': { type: 'string' },
        features: { type: 'string' }, reason: { type: 'string' }, json: { type: 'boolean' }, host: { type: 'string' },
        port: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    // parseArgs explains an unknown option at length; its first sentence names it.
    io.err(`mcs-license: ${(err as Error).message.split('. To specify')[0]} (see npm run license -- --help)\n`);
    return 64;
  }
  const { values: o, positionals } = parsed;
  const command = positionals[0];
  if (o.help || !command || command === 'help') {
    io.out(`${USAGE}\n`);
    return command || o.help ? 0 : 64;
  }
  const dbFile = o.db ?? io.env.MCS_LICENSE_DB ?? 'licenses.db';
  const keyFile = o.key ?? io.env.MCS_LICENSE_PRIVATE_KEY ?? 'vendor-private-key.pem';
  const loadKey = () => {
    if (!existsSync(keyFile)) throw new UsageError(`no private key at ${keyFile} (create one with keygen, or pass --key)`);
    return privateKeyFromPem(readFileSync(keyFile, 'utf8'));
  };

  try {
    switch (command) {
      case 'keygen': {
        const dir = o.out ?? '.';
        const privateFile = join(dir, 'vendor-private-key.pem');
        if (existsSync(privateFile)) throw new UsageError(`${privateFile} exists: refusing to overwrite a vendor key (every license issued with it would be lost)`);
        mkdirSync(dir, { recursive: true });
        const { privatePem, publicPem } = generateVendorKeyPair();
        writeFileSync(privateFile, privatePem, { mode: 0o600, flag: 'wx' });
        writeFileSync(join(dir, 'vendor-public-key.pem'), publicPem);
        io.out(`private key: ${privateFile} (keep it secret and backed up; never ship it)\npublic key:  ${join(dir, 'vendor-public-key.pem')}\n` +
          `The appliance ships the public key compiled in: put it into licensing/vendor-public-key.ts:\n\nexport const VENDOR_PUBLIC_KEY_PEM = \`${publicPem}\`;\n`);
        return 0;
      }
      case 'issue': {
        const customer = o.customer?.trim();
        const maxDevices = Number(o['max-devices']);
        if (!customer) throw new UsageError('--customer is required');
        if (!Number.isInteger(maxDevices) || maxDevices < 1) throw new UsageError('--max-devices must be a whole number ≥ 1');
        if (!o.expires || !isDate(o.expires)) throw new UsageError('--expires must be a date YYYY-MM-DD (the last valid day, UTC)');
        const machineId = o['machine-id']?.trim().toLowerCase() || null;
        if (machineId !== null && !isMachineId(machineId)) throw new UsageError("--machine-id must be the appliance's 32-hex-character machine id");
        const features = (o.features ?? '').split(',').map((f) => f.trim()).filter(Boolean);
        const license: License = {
          license_key: newLicenseKey(), customer, max_devices: maxDevices, expire_date: o.expires, machine_id: machineId, features,
          issued_at: new Date(now()).toISOString(),
        };
        if (!new RegExp(LICENSE_KEY_PATTERN).test(license.license_key)) throw new Error('generated key does not match its pattern');
        const text = signLicense(license, loadKey());
        const store = openLicenseStore(dbFile);
        try {
          store.add(license);
        } finally {
          store.close();
        }
        if (o.out) {
          writeFileSync(o.out, text, { flag: 'wx' });
          io.err(`issued ${license.license_key} for ${customer} (${maxDevices} devices, until ${o.expires}${machineId ? `, machine ${machineId}` : ', bound at first activation'}) → ${o.out}\n`);
        } else io.out(text);
        return 0;
      }
      case 'revoke': {
        const key = positionals[1];
        if (!key) throw new UsageError('revoke <license-key>');
        const store = openLicenseStore(dbFile);
        try {
          if (!store.get(key)) throw new UsageError(`no license ${key} in ${dbFile}`);
          const done = store.revoke(key, now(), o.reason ?? '');
          io.out(done ? `revoked ${key}: refused at its next check-in\n` : `${key} was already revoked\n`);
        } finally {
          store.close();
        }
        return 0;
      }
      case 'list': {
        const store = openLicenseStore(dbFile);
        try {
          const rows = store.list();
          if (o.json) io.out(`${JSON.stringify(rows.map((r) => ({ ...r, features: JSON.parse(r.features) })), null, 2)}\n`);
          else {
            for (const r of rows) {
              const state = r.revoked_at ? `revoked ${new Date(r.revoked_at).toISOString()}` : r.bound_machine ? `bound ${r.bound_machine}` : 'not activated';
              io.out(`${r.license_key}  ${r.customer}  ${r.max_devices} devices  until ${r.expire_date}  ${state}\n`);
            }
            if (!rows.length) io.out('no licenses issued\n');
          }
        } finally {
          store.close();
        }
        return 0;
      }
      case 'checkins': {
        const store = openLicenseStore(dbFile);
        try {
          const rows = store.checkins(positionals[1]);
          if (o.json) io.out(`${JSON.stringify(rows, null, 2)}\n`);
          else for (const r of rows) io.out(`${new Date(r.ts).toISOString()}  ${r.license_key}  ${r.machine_id}  v${r.version}  ${r.remote ?? '-'}  ${r.valid ? 'valid' : `refused ${r.code} ${r.reason}`}\n`);
        } finally {
          store.close();
        }
        return 0;
      }
      case 'serve': {
        const privateKey = loadKey();
        const store = openLicenseStore(dbFile);
        const app = createLicenseServer({ store, privateKey, logger: true });
        const port = Number(o.port ?? io.env.PORT ?? 8090);
        await app.listen({ host: o.host ?? '0.0.0.0', port });
        const stop = () => app.close().then(() => (store.close(), process.exit(0)));
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
        return await new Promise<number>(() => {}); // runs until a signal
      }
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`mcs-license: ${err.message}\n`);
      return 64;
    }
    io.err(`mcs-license: ${(err as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runLicenseCli(process.argv.slice(2), {
    out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env,
  });
}
