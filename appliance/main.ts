#!/usr/bin/env node
// The appliance binary: `mcs-edge [serve]` runs it; `devices …` administers detectors; `check`
// validates the configuration. Config: embedded defaults ← file (--config / MCS_CONFIG) ← MCS_* env.
// The same file is the entry of the single executable (PKG-1, installer/package.ts).
import './core/sea-guard.ts'; // first: refuses a tampered environment before any other module runs (issue 16.5)
import { readFileSync } from 'node:fs';
import { EXIT_CONFIG, loadConfig, type Config } from './core/config.ts';
import { createLogger, silentLogger, type Logger } from './core/log.ts';
import { isSingleExecutable, prepareSeaRuntime } from './core/sea-runtime.ts';
import { createSdNotifier } from './core/sd-notify.ts';
import { VERSION } from './core/version.ts';
import { baseUrlsOf, startBanner } from './core/banner.ts';
import { createApp } from './app.ts';
import { runAlarmsCommand } from './cli/alarms.ts';
import { runDevicesCommand } from './cli/devices.ts';
import { runBackupCommand, runRestoreCommand } from './cli/archive.ts';
import { runLicenseCommand } from './cli/license.ts';

const SHUTDOWN_DEADLINE_MS = 10_000;
/** sysexits EX_USAGE: the command line is wrong (README: exit codes). */
const EXIT_USAGE = 64;

const USAGE = `MCS Edge ${VERSION} — gas-detector edge appliance

Usage: mcs-edge [--config FILE] [command]

Commands:
  serve (default)          run the appliance (MQTT broker, ingest, storage)
  devices <sub> ...        register and manage detectors (mcs-edge devices --help)
  alarms <sub> ...         alarm records, acknowledgement, notification settings (mcs-edge alarms --help)
  backup                   write a database backup now (safe while running; ARC-4)
  restore <file>           replace the database with a backup (appliance stopped; mcs-edge restore --help)
  license <sub>            this machine's id, or check a license file (mcs-edge license --help)
  check                    validate the configuration and exit (0 ok, 78 invalid)
  --version, --help

Configuration: a JSON file (--config or MCS_CONFIG) and MCS_* environment variables,
e.g. MCS_DATA_DIR, MCS_MQTT_PORT, MCS_MQTT_FACTORY_SECRET, MCS_LOG_LEVEL.`;

function configOrExit(configFile: string | undefined): Config {
  const result = loadConfig({ file: configFile, env: process.env });
  if (!result.ok) {
    process.stderr.write(`mcs-edge: invalid configuration (${result.errors.length} error${result.errors.length > 1 ? 's' : ''}):\n`);
    for (const error of result.errors) process.stderr.write(`  ${error}\n`);
    process.exit(EXIT_CONFIG);
  }
  for (const warning of result.warnings) process.stderr.write(`mcs-edge: warning: ${warning}\n`);
  return result.config;
}

/**
 * Development, tests and benchmarks run the appliance from source with more than the evaluation's
 * 10 devices: MCS_LICENSE_DEV_PUBLIC_KEY_FILE names a vendor public key of their own to check
 * licenses with. Never honoured by the packaged single executable (PKG-1), where it would let a
 * customer sign their own licenses.
 */
function devLicensePublicKey(log: Logger): string | undefined {
  const file = process.env.MCS_LICENSE_DEV_PUBLIC_KEY_FILE;
  if (!file) return undefined;
  if (isSingleExecutable()) {
    log.warn('MCS_LICENSE_DEV_PUBLIC_KEY_FILE is ignored by the packaged binary');
    return undefined;
  }
  log.warn({ file }, 'development build: licenses are checked with a development key');
  return readFileSync(file, 'utf8');
}

async function serve(config: Config) {
  const log = await createLogger({ level: config.log.level, file: config.log.file || undefined });
  const systemd = await createSdNotifier({ log }); // PKG-3: Type=notify with a watchdog
  const app = createApp({
    config,
    log,
    version: VERSION,
    licensePublicKeyPem: devLicensePublicKey(log),
    onFatal: () => {
      log.flush?.();
      process.exit(1); // systemd restarts us; nothing unacknowledged is lost (ING-6)
    },
  });
  try {
    await app.start();
  } catch (err) {
    log.fatal({ err }, 'start failed');
    await app.stop().catch(() => {});
    process.exit(1);
  }
  log.info({ version: VERSION, ...app.summary() }, 'MCS Edge started'); // OPS-3 startup summary
  if (process.stdout.isTTY) {
    // Issue 18.7: a person at a terminal gets the URLs in words; journald keeps the JSON line above.
    const summary = app.summary();
    const https = Boolean(config.http.tls_cert && config.http.tls_key);
    process.stdout.write(startBanner({
      version: VERSION, baseUrls: baseUrlsOf(config.http.host, summary.http, https),
      mqttPort: summary.mqtt, mqttsPort: summary.mqtts, oneTimePassword: app.oneTimeAdminPassword(),
    }));
  }
  systemd.ready(`serving, version ${VERSION}`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    systemd.stopping();
    // OPS-4: never hang longer than the deadline.
    setTimeout(() => {
      log.error('shutdown deadline passed, exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app.stop().then(
      () => {
        log.info('stopped cleanly');
        log.flush?.();
        process.exit(0);
      },
      (err) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** The configuration of a command that opens the database: in the single executable, extract its runtime first. */
function runtimeConfigOrExit(configFile: string | undefined, options = { prune: false }): Config {
  const config = configOrExit(configFile);
  try {
    prepareSeaRuntime(config.data_dir, options);
  } catch (err) {
    process.stderr.write(`mcs-edge: ${(err as Error).message}\n`);
    process.exit(1);
  }
  return config;
}

/**
 * `mcs-edge <command> --help` reads no configuration and unpacks nothing: the usage is printed
 * before the command looks at its config, so the defaults stand in for it.
 */
const asksHelp = (args: string[]) => args.includes('--help') || args.includes('-h');
function defaultsConfig(): Config {
  const defaults = loadConfig();
  if (!defaults.ok) throw new Error(defaults.errors.join('; '));
  return defaults.config;
}

/** A usage error: one line naming what is wrong, then where the usage is (EX_USAGE). */
function usageError(message: string): void {
  process.stderr.write(`mcs-edge: ${message} (see mcs-edge --help)\n`);
  process.exitCode = EXIT_USAGE;
}

async function main(argv: string[]) {
  let configFile = process.env.MCS_CONFIG || undefined;
  const args = [...argv];
  const configAt = args.indexOf('--config');
  if (configAt >= 0) {
    configFile = args[configAt + 1];
    args.splice(configAt, 2);
    if (!configFile) return usageError('--config needs a file');
  }
  const command = args[0] ?? 'serve';
  const rest = args.slice(1);
  const help = asksHelp(rest);
  // `serve` and `check` take no options of their own: --help is the usage, anything else a mistake.
  if ((command === 'serve' || command === 'check') && rest.length) {
    if (help) return void console.log(USAGE);
    return usageError(`${command} takes no arguments, got '${rest[0]}'`);
  }
  switch (command) {
    case '--version':
    case 'version':
      console.log(VERSION);
      return;
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return;
    case 'check': {
      const config = configOrExit(configFile);
      console.log(`configuration ok (data dir ${config.data_dir}, MQTT ${config.mqtt.port})`);
      return;
    }
    case 'serve':
      return serve(runtimeConfigOrExit(configFile, { prune: true }));
    case 'devices':
      process.exitCode = await runDevicesCommand(rest, help ? defaultsConfig() : runtimeConfigOrExit(configFile));
      return;
    case 'alarms':
      process.exitCode = await runAlarmsCommand(rest, help ? defaultsConfig() : runtimeConfigOrExit(configFile));
      return;
    case 'backup':
      process.exitCode = await runBackupCommand(rest, help ? defaultsConfig() : runtimeConfigOrExit(configFile));
      return;
    case 'license':
      process.exitCode = await runLicenseCommand(rest, help ? defaultsConfig() : configOrExit(configFile), { publicKeyPem: devLicensePublicKey(silentLogger()) });
      return;
    case 'restore':
      process.exitCode = await runRestoreCommand(rest, help ? defaultsConfig() : runtimeConfigOrExit(configFile));
      return;
    default:
      if (command.startsWith('-')) return usageError(`unknown option '${command}'`);
      usageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`mcs-edge: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
