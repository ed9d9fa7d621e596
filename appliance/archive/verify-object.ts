// ARC-2: an upload counts as archived only once the bucket gives back what was sent: the object
// exists, has the byte count sent, and hashes (read back in full) to the sha256 of the export.
// Until then no local row is deleted; a mismatch is an ArchiveFailure naming what differs.
import { ArchiveFailure } from './archive-failure.ts';
import type { S3 } from './s3.ts';

export async function verifyArchivedObject(s3: S3, key: string, expected: { bytes: number; sha256: string }): Promise<void> {
  const head = await s3.head(key);
  if (!head) throw new ArchiveFailure(`uploaded object ${key} is missing`);
  if (head.bytes !== expected.bytes) throw new ArchiveFailure(`uploaded object has ${head.bytes} bytes, ${expected.bytes} were sent`);
  const back = await s3.sha256(key);
  if (back.sha256 !== expected.sha256) throw new ArchiveFailure(`uploaded object's sha256 ${back.sha256} differs from the sent ${expected.sha256}`);
}
