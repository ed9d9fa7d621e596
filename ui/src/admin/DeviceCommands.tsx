// UI-3 device commands (DEV-3, seed §2.3): debug (1 s reporting for a while), calib (push k, b,
// t_comp to the detector), reboot. 40003 comes back when the detector is not connected.
import { useState } from 'preact/hooks';
import type { DeviceView } from '../../../appliance/contract/device.ts';
import { t } from '../i18n/i18n.ts';
import { api } from '../lib/api.ts';
import { Field, inputValue, Modal, Notice, useAction } from '../lib/ui.tsx';

export function DeviceCommands(props: { device: DeviceView; onClose: () => void }) {
  const { device } = props;
  const [duration, setDuration] = useState('300');
  const [delay, setDelay] = useState('5');
  const [calib, setCalib] = useState({ k: String(device.calib.k), b: String(device.calib.b), t_comp: String(device.calib.t_comp) });
  const action = useAction();
  const send = (command: Record<string, unknown>) =>
    void action.run(() => api.post(`/api/devices/${encodeURIComponent(device.sn)}/command`, command), t('commands.sent', { cmd: String(command.cmd) }));
  return (
    <Modal title={t('commands.title', { sn: device.sn })} onClose={props.onClose}>
      <div class="command-block">
        <h3>{t('commands.debug')}</h3>
        <div class="row">
          <Field label={t('commands.duration')}><input type="number" min={1} max={600} value={duration} onInput={(e) => setDuration(inputValue(e))} /></Field>
          <button type="button" data-cmd="debug" disabled={action.busy} onClick={() => send({ cmd: 'debug', duration: Number(duration) })}>{t('commands.send')}</button>
        </div>
      </div>
      <div class="command-block">
        <h3>{t('commands.calib')}</h3>
        <div class="row">
          {(['k', 'b', 't_comp'] as const).map((key) => (
            <Field key={key} label={key}><input type="number" step="any" value={calib[key]} onInput={(e) => setCalib({ ...calib, [key]: inputValue(e) })} /></Field>
          ))}
          <button type="button" data-cmd="calib" disabled={action.busy} onClick={() => send({ cmd: 'calib', k: Number(calib.k), b: Number(calib.b), t_comp: Number(calib.t_comp) })}>{t('commands.send')}</button>
        </div>
      </div>
      <div class="command-block">
        <h3>{t('commands.reboot')}</h3>
        <div class="row">
          <Field label={t('commands.delay')}><input type="number" min={0} max={3600} value={delay} onInput={(e) => setDelay(inputValue(e))} /></Field>
          <button type="button" class="danger" data-cmd="reboot" disabled={action.busy} onClick={() => send({ cmd: 'reboot', delay: Number(delay) })}>{t('commands.send')}</button>
        </div>
      </div>
      <Notice error={action.error} ok={action.ok} />
    </Modal>
  );
}
