// PKG-3: the systemd notify protocol, spoken by the appliance itself (Type=notify): READY=1 once
// every stage listens, WATCHDOG=1 at half of WatchdogSec while the event loop turns (a hung
// process is killed and restarted by systemd), STOPPING=1 when a stop begins. The messages are
// datagrams on the unix socket named by NOTIFY_SOCKET; Node has no unix datagram sockets, so the
// small `unix-dgram` addon sends them. Without NOTIFY_SOCKET (a shell, the tests) all of it is off.
import type { Logger } from './log.ts';

export interface SdNotifier {
  /** Whether systemd asked for notifications (NOTIFY_SOCKET set to a path). */
  readonly enabled: boolean;
  /** Half of WatchdogSec in ms, or null when no watchdog was asked for. */
  readonly watchdogIntervalMs: number | null;
  ready(status?: string): void;
  status(text: string): void;
  stopping(): void;
  close(): void;
}

export interface SdNotifyOptions {
  env?: NodeJS.ProcessEnv;
  log: Logger;
  pid?: number;
}

/** WATCHDOG_USEC applies to us unless WATCHDOG_PID names another process (sd_watchdog_enabled). */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

const disabled: SdNotifier = {
  enabled: false, watchdogIntervalMs: null, ready() {}, status() {}, stopping() {}, close() {},
};

export async function createSdNotifier(options: SdNotifyOptions): Promise<SdNotifier> {
  const env = options.env ?? process.env;
  const log = options.log.child({ stage: 'sd-notify' });
  const socketPath = env.NOTIFY_SOCKET;
  if (!socketPath) return disabled;
  if (!socketPath.startsWith('/')) {
    log.warn({ socket: socketPath }, 'NOTIFY_SOCKET is not a filesystem path (abstract sockets are not supported); systemd will not hear from us');
    return disabled;
  }
  const { createSocket } = await import('unix-dgram');
  const socket = createSocket('unix_dgram');
  socket.on('error', (err: Error) => log.warn({ err }, 'notify socket error'));
  const intervalMs = watchdogIntervalMs(env, options.pid ?? process.pid);
  let watchdog: NodeJS.Timeout | null = null;
  let failures = 0;

  function send(message: string) {
    const buf = Buffer.from(message);
    socket.send(buf, 0, buf.length, socketPath!, (err?: Error) => {
      if (err && failures++ === 0) log.warn({ err, message }, 'could not notify systemd');
    });
  }

  return {
    enabled: true,
    watchdogIntervalMs: intervalMs,
    ready(status) {
      send(`READY=1\nMAINPID=${options.pid ?? process.pid}${status ? `\nSTATUS=${status}` : ''}`);
      if (intervalMs !== null && !watchdog) {
        send('WATCHDOG=1');
        watchdog = setInterval(() => send('WATCHDOG=1'), intervalMs);
        watchdog.unref();
      }
    },
    status(text) {
      send(`STATUS=${text}`);
    },
    stopping() {
      if (watchdog) clearInterval(watchdog);
      watchdog = null;
      send('STOPPING=1');
    },
    close() {
      if (watchdog) clearInterval(watchdog);
      watchdog = null;
      socket.close();
    },
  };
}
