// Issue 15.5: a simulated output module (输出模块, GB 16808-2025 alarm control output): the relay
// box that drives fans, shut-off valves and horns. It connects like a detector (DEV-1/DEV-5: its own
// serial, `device_{sn}`, retained online/offline status), sends no readings, switches its relays on
// `{"cmd":"relay","ch":N,"on":true|false}` from mcs/{sn}/cmd, and acknowledges each by reporting all
// its relay states on its status topic: `{"status":"online","ts":…,"relay":{"1":true,"2":false}}`
// (retained, QoS 1) — the answer the appliance's linkage delivery waits for.
import { statusTopic } from '../appliance/contract/topics.ts';
import { decodeCommand } from './commands.ts';
import { openLink, type Link } from './link.ts';

export interface OutputModuleOptions {
  sn: string;
  url: string;
  password: string;
  /** Relay channels 1…N (default 4). */
  channels?: number;
  /** Device time in unix seconds (default: the wall clock). */
  nowS?: () => number;
  /** Answer relay commands (default true); false: a broken module that switches nothing and says nothing. */
  acknowledge?: boolean;
  log?: (line: string) => void;
}

export interface RelaySwitch {
  ch: number;
  on: boolean;
  /** Wall-clock ms when the command arrived. */
  at: number;
}

export interface OutputModule {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly connected: boolean;
  /** Relay channel → on, as the module holds them now. */
  relays(): Record<string, boolean>;
  /** Every relay command obeyed, in order. */
  switched(): readonly RelaySwitch[];
}

export function createOutputModule(o: OutputModuleOptions): OutputModule {
  const channels = o.channels ?? 4;
  const nowS = o.nowS ?? (() => Math.floor(Date.now() / 1000));
  const log = o.log ?? (() => {});
  const state: Record<string, boolean> = Object.fromEntries(Array.from({ length: channels }, (_, i) => [String(i + 1), false]));
  const history: RelaySwitch[] = [];
  let link: Link | null = null;

  const report = () => link?.publish(statusTopic(o.sn), JSON.stringify({ status: 'online', ts: nowS(), relay: state }), 1, true);

  function onCommand(topic: string, payload: Buffer) {
    const decoded = decodeCommand(payload);
    if (!decoded.ok) return log(`${o.sn}: ignored command on ${topic}: ${decoded.reason}`);
    const command = decoded.command;
    if (command.cmd !== 'relay') return log(`${o.sn}: ${command.cmd} is not for an output module, ignored`);
    if (command.ch > channels) return log(`${o.sn}: no relay ${command.ch} (it has ${channels}), ignored`);
    if (o.acknowledge === false) return log(`${o.sn}: relay ${command.ch} command not obeyed (broken module)`);
    state[String(command.ch)] = command.on;
    history.push({ ch: command.ch, on: command.on, at: Date.now() });
    log(`${o.sn}: relay ${command.ch} ${command.on ? 'on' : 'off'}`);
    void report();
  }

  return {
    start() {
      return new Promise<void>((resolve, reject) => {
        link = openLink({ sn: o.sn, url: o.url, password: o.password, nowS }, {
          onConnect: () => {
            void report(); // its relays as they are, after the link's plain "online"
            resolve();
          },
          onRefused: (code, message) => reject(new Error(`${o.sn}: connection refused (${code}): ${message}`)),
          onCommand,
          onClose: (reason, wasConnected) => {
            if (!wasConnected) reject(new Error(`${o.sn}: ${reason}`));
            else log(`${o.sn}: connection lost: ${reason}`);
          },
        });
      });
    },
    async stop() {
      const l = link;
      link = null;
      await l?.close();
    },
    get connected() {
      return link?.connected ?? false;
    },
    relays: () => ({ ...state }),
    switched: () => history,
  };
}
