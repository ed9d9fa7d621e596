// Issue 16.5 / LIC-2: the first module the single executable evaluates (main.ts imports it before
// anything else; esbuild keeps that order in the bundle). Outside the executable it does nothing:
// development and tests run from source with whatever Node options they like.
//
// The executable's Node runtime never reads NODE_OPTIONS or OPENSSL_CONF (installer/sealed-node.ts),
// so those can no longer load code; here they are only named as ignored. What this module still
// stops, before any other module has run:
// - Node options of any other origin (process.execArgv is empty in a Node single executable:
//   its command line belongs to the appliance);
// - a native library preloaded by the dynamic loader (LD_PRELOAD, LD_AUDIT: e.g. a fake clock
//   for an expired license). Such a library has run already and a careful one hides itself; this
//   catches the one environment variable, not native code in general (README: what remains);
// - MCS_SEA_RUNTIME_DIR from the caller's environment: the main thread sets it after extracting
//   and checking the runtime (core/sea-runtime.ts); inherited, it would make the addon loader and
//   the worker threads load code from any directory;
// - SIGUSR1, which opens Node's inspector (a debugger that evaluates code) on 127.0.0.1:9229 in any
//   Node process: with a listener installed, Node does not start it.
import * as sea from 'node:sea';
import { isMainThread } from 'node:worker_threads';
import { RUNTIME_DIR_ENV } from './sea-runtime.ts';

/** The process exit code for a refused environment: EX_CONFIG, which systemd does not restart (PKG-3). */
export const EXIT_TAMPERED = 78;

export interface SeaEnvironmentVerdict {
  /** why the executable refuses to start (English and Chinese), or null */
  refuse: string | null;
  /** variables set but ignored, to say so on stderr */
  ignored: string[];
}

const NATIVE_PRELOAD_ENV = ['LD_PRELOAD', 'LD_AUDIT'];
const INERT_ENV = ['NODE_OPTIONS', 'OPENSSL_CONF'];

/** The decision, apart from the process (unit-tested). */
export function judgeSeaEnvironment(env: NodeJS.ProcessEnv, execArgv: string[]): SeaEnvironmentVerdict {
  if (execArgv.length > 0) {
    return {
      refuse: `Node.js options are not accepted by mcs-edge (${execArgv.join(' ')}) / mcs-edge 不接受 Node.js 运行参数 (${execArgv.join(' ')})`,
      ignored: [],
    };
  }
  const preloads = NATIVE_PRELOAD_ENV.filter((name) => env[name]);
  if (preloads.length > 0) {
    return {
      refuse: `${preloads.join(', ')} is set: mcs-edge does not run with libraries preloaded into it; remove the variable`
        + ` / 已设置 ${preloads.join(', ')}:mcs-edge 不允许预加载动态库,请删除该环境变量`,
      ignored: [],
    };
  }
  return { refuse: null, ignored: INERT_ENV.filter((name) => env[name] !== undefined) };
}

function guardSingleExecutable(): void {
  if (!sea.isSea() || !isMainThread) return;
  const verdict = judgeSeaEnvironment(process.env, process.execArgv);
  if (verdict.refuse) {
    process.stderr.write(`mcs-edge: ${verdict.refuse}\n`);
    process.exit(EXIT_TAMPERED);
  }
  for (const name of verdict.ignored) {
    process.stderr.write(`mcs-edge: warning: ${name} is ignored by the packaged binary / 打包的 mcs-edge 忽略 ${name}\n`);
  }
  delete process.env[RUNTIME_DIR_ENV];
  process.on('SIGUSR1', () => process.stderr.write('mcs-edge: SIGUSR1 ignored: the packaged binary has no debugger / 打包的 mcs-edge 不开放调试器\n'));
}

guardSingleExecutable();
