// ARC-2: the deletion after a verified upload — exactly the rows the attempt exported (its day range,
// received before its export began), device by device through the group-commit writer, each
// device's count added to the attempt's deleted_rows as it goes, so a crash mid-way leaves a row
// that resume-unfinished.ts can finish.
import type { Logger } from '../core/log.ts';
import type { ArchiveLog, ArchiveLogRow } from '../storage/archive-log.ts';

/** Deletes the rows an attempt exported; with `perDevice`, a device whose count moved is kept. */
export type DeleteExported = (entry: ArchiveLogRow, perDevice?: Map<number, number>) => Promise<number>;

export interface ExportedRowsDeletionDeps {
  archiveLog: ArchiveLog;
  /** The group-commit writer: the one way rows leave the database. */
  writer: { deleteRange(snId: number, from: number, to: number, receivedBefore: number): Promise<number> };
  log: Logger;
}

export function createExportedRowsDeletion({ archiveLog, writer, log }: ExportedRowsDeletionDeps): DeleteExported {
  return async function deleteExported(entry, perDevice) {
    let deleted = 0;
    for (const { id } of archiveLog.serials()) {
      if (perDevice) {
        const expected = perDevice.get(id) ?? 0;
        const now = archiveLog.deviceCount(id, entry.day_start, entry.day_end, entry.received_before);
        if (now !== expected) {
          // Only a clock stepped back can do this; keeping the rows doubles them in the next part at worst.
          log.warn({ day: entry.day, sn_id: id, expected, now }, 'rows changed since the export; kept for the next part');
          continue;
        }
        if (expected === 0) continue;
      }
      const n = await writer.deleteRange(id, entry.day_start, entry.day_end, entry.received_before);
      if (n) archiveLog.update(entry.id, { deleted_rows: (archiveLog.get(entry.id)?.deleted_rows ?? 0) + n });
      deleted += n;
    }
    return deleted;
  };
}
