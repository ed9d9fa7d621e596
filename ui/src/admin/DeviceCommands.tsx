// UI-3 device commands (DEV-3, seed §2.3): debug (1 s reporting for a while), calib (push k, b,
// t_comp to the detector), reboot. 40003 comes back when the detector is not connected.
// Issue 15.6: nothing goes out on the first press: each command is spelled out with its values and
// sent only once confirmed (a reboot stops a safety detector measuring; a wrong k silently skews it).
import { useState } from 'preact/hooks';
import type { DeviceView } from '../../../appliance/contract/device.ts';
import { t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { Field, inputValue, Modal, Notice, useAction } from '../lib/ui.tsx';

type Command =
  | { cmd: 'debug'; duration: number }
  | { cmd: 'calib'; k: number; b: number; t_comp: number }
  | { cmd: 'reboot'; delay: number };

function confirmText(sn: string, command: Command): string {
  switch (command.cmd) {
    case 'debug': return t('commands.confirm.debug', { sn, duration: command.duration });
    case 'calib': return t('commands.confirm.calib', { sn, k: command.k, b: command.b, t_comp: command.t_comp });
    case 'reboot': return t('commands.confirm.reboot', { sn, delay: command.delay });
  }
}

export function DeviceCommands(props: { device: DeviceView; onClose: () => void }) {
  const { device } = props;
  const [duration, setDuration] = useState('300');
  const [delay, setDelay] = useState('5');
  const [calib, setCalib] = useState({ k: String(device.calib.k), b: String(device.calib.b), t_comp: String(device.calib.t_comp) });
  const [asking, setAsking] = useState<Command | null>(null);
  const action = useAction();
  const send = (command: Command) => {
    setAsking(null);
    void action.run(() => api.post(`/api/devices/${encodeURIComponent(device.sn)}/command`, command), t('commands.sent', { cmd: command.cmd }));
  };
  const ask = (command: Command) => setAsking(command);
  return (
    <Modal title={t('commands.title', { sn: device.sn })} onClose={props.onClose}>
      <div class="command-block">
        <h3>{t('commands.debug')}</h3>
        <div class="row">
          <Field label={t('commands.duration')}><input type="number" min={1} max={600} value={duration} onInput={(e) => setDuration(inputValue(e))} /></Field>
          <button type="button" data-cmd="debug" disabled={action.busy} onClick={() => ask({ cmd: 'debug', duration: Number(duration) })}>{t('commands.send')}</button>
        </div>
      </div>
      <div class="command-block">
        <h3>{t('commands.calib')}</h3>
        <div class="row">
          {(['k', 'b', 't_comp'] as const).map((key) => (
            <Field key={key} label={key}><input type="number" step="any" value={calib[key]} onInput={(e) => setCalib({ ...calib, [key]: inputValue(e) })} /></Field>
          ))}
          <button type="button" data-cmd="calib" disabled={action.busy} onClick={() => ask({ cmd: 'calib', k: Number(calib.k), b: Number(calib.b), t_comp: Number(calib.t_comp) })}>{t('commands.send')}</button>
        </div>
      </div>
      <div class="command-block">
        <h3>{t('commands.reboot')}</h3>
        <div class="row">
          <Field label={t('commands.delay')}><input type="number" min={0} max={3600} value={delay} onInput={(e) => setDelay(inputValue(e))} /></Field>
          <button type="button" class="danger" data-cmd="reboot" disabled={action.busy} onClick={() => ask({ cmd: 'reboot', delay: Number(delay) })}>{t('commands.send')}</button>
        </div>
      </div>
      {asking && (
        <div class="command-confirm" role="alertdialog" aria-live="assertive" data-confirm={asking.cmd}>
          <p>{confirmText(device.sn, asking)}</p>
          <div class="row">
            <button type="button" data-action="cancel-command" onClick={() => setAsking(null)}>{t('common.cancel')}</button>
            <button type="button" class={asking.cmd === 'reboot' ? 'danger' : 'primary'} data-action="confirm-command" onClick={() => send(asking)}>{t('commands.confirmSend')}</button>
          </div>
        </div>
      )}
      <Notice error={action.error} ok={action.ok} />
    </Modal>
  );
}
