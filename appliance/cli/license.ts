// `mcs-edge license …`: what the plant's admin (or the installer) needs before the appliance runs:
// the machine id to send to the vendor (LIC-1), and a check of a license file before it is put in
// place (LIC-2): a file that fails here would only lock the appliance later.
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { verifyLicenseText, maskLicenseKey } from '../../licensing/license-file.ts';
import { readMachineId } from '../../licensing/machine-id.ts';
import { publicKeyFromPem } from '../../licensing/signing.ts';
import { VENDOR_PUBLIC_KEY_PEM } from '../../licensing/vendor-public-key.ts';
import type { Config } from '../core/config.ts';

const USAGE = `Usage: mcs-edge license <command>

  machine-id        print this machine's id (send it to the vendor to get a license)
  check <file>      verify a license file's signature and that it is for this machine`;

export interface LicenseCommandIo {
  out?: Writable;
  err?: Writable;
  publicKeyPem?: string;
}

export async function runLicenseCommand(args: string[], config: Config, io: LicenseCommandIo = {}): Promise<number> {
  const out = io.out ?? process.stdout;
  const err = io.err ?? process.stderr;
  const [command, file] = args;
  if (!command || args.includes('--help') || args.includes('-h')) {
    out.write(`${USAGE}\n`);
    return command ? 0 : 64;
  }
  const machine = readMachineId({ override: config.license.machine_id || undefined });
  if (machine.ignoredOverride) err.write('mcs-edge: warning: license.machine_id / MCS_LICENSE_MACHINE_ID is ignored by the packaged binary / 打包的 mcs-edge 忽略机器码覆盖设置\n');
  switch (command) {
    case 'machine-id':
      if (!machine.ok) {
        err.write(`mcs-edge: ${machine.error}\n`);
        return 1;
      }
      out.write(`${machine.machineId}\n`);
      return 0;
    case 'check': {
      if (!file) {
        err.write(`mcs-edge: license check needs a file\n\n${USAGE}\n`);
        return 64;
      }
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        err.write(`mcs-edge: cannot read ${file}: ${(e as Error).message}\n`);
        return 1;
      }
      const result = verifyLicenseText(text, publicKeyFromPem(io.publicKeyPem ?? VENDOR_PUBLIC_KEY_PEM));
      if (!result.ok) {
        err.write(`mcs-edge: ${file} is not a valid license: ${result.problem}\n`);
        return 1;
      }
      const { license } = result;
      if (license.machine_id && machine.ok && license.machine_id !== machine.machineId) {
        err.write(`mcs-edge: ${file} is for machine ${license.machine_id}, this machine is ${machine.machineId}\n`);
        return 1;
      }
      out.write(`license ${maskLicenseKey(license.license_key)} for ${license.customer}: ${license.max_devices} devices, expires ${license.expire_date}\n`);
      return 0;
    }
    default:
      err.write(`mcs-edge: unknown license ${command.startsWith('-') ? 'option' : 'command'} '${command}' (see mcs-edge license --help)\n`);
      return 64;
  }
}
