// What a detector does with a command it is sent on mcs/{sn}/cmd or mcs/broadcast/cmd (DEV-3):
// decodes it (commands.ts), reports it as a `command` event whether or not it made sense, logs
// and ignores what it cannot read, and otherwise hands it to the detector's action for it:
// debug (1 s readings for a while), calib (new k, b, t_comp), reboot (back after a delay). OTA is
// not simulated: it is logged and ignored, as a detector with no update server would.
import type { DeviceCommand } from '../appliance/contract/device-payload.ts';
import { decodeCommand } from './commands.ts';
import type { Calibration, DetectorEvent } from './types.ts';

export interface CommandActions {
  /** Duration already clamped to at most 600 s. */
  debug(durationS: number): void;
  calibrate(calib: Calibration): void;
  reboot(delayS: number): void;
}

export interface CommandHandlerOptions extends CommandActions {
  log(line: string): void;
  emit(e: DetectorEvent): void;
}

export function createCommandHandler(o: CommandHandlerOptions): (topic: string, payload: Buffer) => void {
  function apply(cmd: DeviceCommand) {
    switch (cmd.cmd) {
      case 'debug':
        o.log(`debug: 1 s readings for ${cmd.duration} s`);
        o.debug(cmd.duration);
        return;
      case 'calib':
        o.calibrate({ k: cmd.k, b: cmd.b, t_comp: cmd.t_comp });
        o.log(`calib: k=${cmd.k} b=${cmd.b} t_comp=${cmd.t_comp}`);
        return;
      case 'reboot':
        o.log(`reboot: back in ${cmd.delay} s`);
        o.reboot(cmd.delay);
        return;
      case 'ota':
        o.log(`ota ${cmd.url} md5=${cmd.md5}: not simulated, ignored`);
        return;
    }
  }

  return (topic, payload) => {
    const decoded = decodeCommand(payload);
    o.emit({ type: 'command', command: decoded.ok ? decoded.command : payload.toString(), ok: decoded.ok });
    if (!decoded.ok) return o.log(`ignored command on ${topic}: ${decoded.reason}`);
    apply(decoded.command);
  };
}
