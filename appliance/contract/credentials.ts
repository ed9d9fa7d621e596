// DEV-5: factory-flashed detectors carry a password derived from their serial number and the
// vendor's factory secret: the first 16 hex chars of SHA256(sn + factory_secret) (seed §7.2).
import { createHash } from 'node:crypto';

export function derivedDevicePassword(sn: string, factorySecret: string): string {
  return createHash('sha256').update(sn + factorySecret).digest('hex').slice(0, 16);
}
