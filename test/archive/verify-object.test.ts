// ARC-2: an upload counts only when the bucket gives back what was sent — against a real
// S3-compatible server: a missing object, a different size and a different content each fail with
// words saying which; only the exact object passes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ArchiveFailure } from '../../appliance/archive/archive-failure.ts';
import { createS3, type S3 } from '../../appliance/archive/s3.ts';
import { verifyArchivedObject } from '../../appliance/archive/verify-object.ts';
import type { StorageSettings } from '../../appliance/contract/storage.ts';
import { s3ForSuite } from '../helpers/s3.ts';

const KEY = 'archive/2026/01/sensor_data_20260105.csv.gz';
const BODY = 'time,sn,v_raw,ppm,temp,humi,bat,rssi,seq\n2026-01-05T00:00:00.000Z,GD-1,1234.56,50.25,21.5,45,90,-70,1\n';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('verifying an uploaded archive object (ARC-2)', () => {
  const server = s3ForSuite();
  let s3: S3;
  before(async () => {
    s3 = createS3(server().settings() as StorageSettings);
    await s3.put(KEY, BODY);
  });
  after(() => s3.destroy());

  const sent = { bytes: Buffer.byteLength(BODY), sha256: sha256(BODY) };
  const failure = (pattern: RegExp) => (err: unknown) => err instanceof ArchiveFailure && pattern.test(err.message);

  test('the object as sent passes', async () => {
    await verifyArchivedObject(s3, KEY, sent);
  });

  test('a missing object fails, naming it', async () => {
    await assert.rejects(verifyArchivedObject(s3, 'archive/2026/01/sensor_data_20260106.csv.gz', sent),
      failure(/^uploaded object archive\/2026\/01\/sensor_data_20260106\.csv\.gz is missing$/));
  });

  test('a different size fails with both sizes', async () => {
    await assert.rejects(verifyArchivedObject(s3, KEY, { ...sent, bytes: sent.bytes + 1 }),
      failure(new RegExp(`^uploaded object has ${sent.bytes} bytes, ${sent.bytes + 1} were sent$`)));
  });

  test('the same size with other content fails on the sha256 read back', async () => {
    const other = sha256(BODY.replace('GD-1', 'GD-2'));
    await assert.rejects(verifyArchivedObject(s3, KEY, { ...sent, sha256: other }),
      failure(new RegExp(`^uploaded object's sha256 ${sent.sha256} differs from the sent ${other}$`)));
  });
});
