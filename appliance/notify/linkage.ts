// Issue 15.5: delivering linkage actions (GB 16808-2025 alarm control outputs). Their outbox rows
// (channel `linkage:<rule id>`, event 'fire' or 'release') were committed with the alarm change
// that started them (alarms/linkage.ts); the outbox sends them here, retries them with backoff and
// records each attempt's outcome in the alarm's journal (ALM-6, ALM-12).
//
// A relay action is done when the output module says so: the command `{"cmd":"relay","ch":N,"on":…}`
// goes to `mcs/{sn}/cmd` (QoS 1) and the module answers with its relay states on its status topic
// (`{"status":"online","relay":{"N":true}}`). A module not connected, or not answering in time, is
// a failed attempt, retried: an output that did not switch must never pass for one that did.
import type { RelayCommand } from '../contract/device-payload.ts';
import { isLinkageChannel, ruleIdOfChannel, type LinkageRule } from '../contract/linkage.ts';
import type { Bus } from '../core/bus.ts';
import { bodySnippet, httpCall, jsonHeaders, statusFailure } from './channels/http.ts';
import type { DeliveryResult, OutboxRow } from './outbox.ts';

export interface LinkageDeliveryDeps {
  /** The rules as saved now (the alarm settings). */
  rules: () => readonly LinkageRule[];
  commands: { isConnected(sn: string): boolean; sendCommand(sn: string, command: RelayCommand): Promise<void> };
  bus: Bus;
  /** How long an output module has to report the relay's new state (default 10 s, within the outbox's timeout). */
  ackTimeoutMs?: number;
  webhookTimeoutMs?: number;
}

export { isLinkageChannel };

export function createLinkageDelivery(deps: LinkageDeliveryDeps) {
  const ackTimeoutMs = deps.ackTimeoutMs ?? 10_000;

  /** Resolves true when `sn` reports relay `ch` in state `on`, false after the timeout or on abort. */
  function relayReported(sn: string, ch: number, on: boolean, signal: AbortSignal): { promise: Promise<boolean>; cancel: () => void } {
    let cancel = () => {};
    const promise = new Promise<boolean>((resolve) => {
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        off();
        signal.removeEventListener('abort', aborted);
        resolve(ok);
      };
      const off = deps.bus.on('output_state', (state) => {
        if (state.sn === sn && state.relay[String(ch)] === on) finish(true);
      });
      const timer = setTimeout(() => finish(false), ackTimeoutMs);
      const aborted = () => finish(false);
      signal.addEventListener('abort', aborted);
      cancel = () => finish(false);
    });
    return { promise, cancel };
  }

  async function relay(rule: LinkageRule & { action: { kind: 'relay' } }, on: boolean, signal: AbortSignal): Promise<DeliveryResult> {
    const { sn, ch } = rule.action;
    const what = `relay ${ch} ${on ? 'on' : 'off'} at ${sn}`;
    if (!deps.commands.isConnected(sn)) return { ok: false, detail: `${what}: output module not connected / 输出模块未连接`, retryable: true };
    // Listening before sending: a module on the same box can answer before the publish returns.
    const answer = relayReported(sn, ch, on, signal);
    try {
      await deps.commands.sendCommand(sn, { cmd: 'relay', ch, on });
    } catch (err) {
      answer.cancel();
      return { ok: false, detail: `${what}: not sent: ${(err as Error).message}`, retryable: true };
    }
    return (await answer.promise)
      ? { ok: true, detail: `${what}: acknowledged by the output module` }
      : { ok: false, detail: `${what}: no acknowledgement within ${ackTimeoutMs} ms / 输出模块未确认`, retryable: true };
  }

  async function webhook(rule: LinkageRule & { action: { kind: 'webhook' } }, row: OutboxRow, signal: AbortSignal): Promise<DeliveryResult> {
    const body = JSON.stringify({ rule: rule.id, name: rule.name, action: row.event, alarm_id: row.alarm_id, detectors: rule.detectors, level: rule.level });
    const outcome = await httpCall(rule.action.url, { method: 'POST', headers: jsonHeaders(), body }, { timeoutMs: deps.webhookTimeoutMs ?? 10_000, signal });
    if (!outcome.ok) return outcome.failure;
    const failure = statusFailure(outcome.answer);
    return failure ?? { ok: true, detail: `webhook answered ${outcome.answer.status} ${bodySnippet(outcome.answer.body, 100)}`.trim() };
  }

  return {
    /** One attempt of a linkage row: the rule as saved now, its action for the row's event. */
    async deliver(row: OutboxRow, signal: AbortSignal): Promise<DeliveryResult> {
      const id = ruleIdOfChannel(row.channel);
      const rule = deps.rules().find((each) => each.id === id);
      if (!rule) return { ok: false, detail: `linkage rule "${id}" no longer exists / 联动规则已删除`, retryable: false };
      if (row.event !== 'fire' && row.event !== 'release') return { ok: false, detail: `unknown linkage event "${row.event}"`, retryable: false };
      const { action } = rule;
      if (action.kind === 'relay') return relay({ ...rule, action }, row.event === 'fire', signal);
      return webhook({ ...rule, action }, row, signal);
    },
  };
}
export type LinkageDelivery = ReturnType<typeof createLinkageDelivery>;
