// The one CSV writer of the appliance: the alarm records and journals (ALM-7, ALM-12), the raw
// readings export (API-1) and the nightly archive (ARC-1) all quote and defuse their cells here.
//
// Two dialects, the same cell rules:
// - SPREADSHEET, for files people open in Excel or WPS: a UTF-8 BOM first (without it Excel reads
//   UTF-8 Chinese as mojibake) and CRLF line ends (RFC 4180);
// - DATA, the seed's data format (§5.3 `time,sn,v_raw,…`): no BOM and LF, as the archive has
//   always been written and scripts read it back.
// Every cell: RFC 4180 quoting (a comma, quote, CR or LF puts it in quotes, quotes doubled) and the
// OWASP "CSV injection" guard: a cell that starts with = + - @, a tab or a CR is run as a formula by
// Excel and LibreOffice, so it gets a leading apostrophe; a plain number such as -5 is left alone
// (a spreadsheet reads it as the number it is).

export const BOM = '\uFEFF';
export const CRLF = '\r\n';

export interface CsvDialect {
  bom: boolean;
  eol: '\r\n' | '\n';
}

export const SPREADSHEET: CsvDialect = { bom: true, eol: CRLF };
export const DATA: CsvDialect = { bom: false, eol: '\n' };

/** What a cell may be given: null and undefined are empty cells, numbers are written as JS prints them. */
export type CsvCell = string | number | null | undefined;

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One field: the formula guard, then RFC 4180 quoting where needed. */
export function csvField(cell: CsvCell): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'number') return String(cell);
  const safe = FORMULA_START.test(cell) && !NUMBER.test(cell) ? `'${cell}` : cell;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One record, ended by the dialect's line end. */
export function csvLine(cells: readonly CsvCell[], dialect: CsvDialect = SPREADSHEET): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) line += (i ? ',' : '') + csvField(cells[i]);
  return line + dialect.eol;
}

export interface CsvDocumentOptions {
  dialect?: CsvDialect;
  /** Approximate characters per yielded chunk (default 16 KiB). */
  chunkSize?: number;
}

/**
 * A whole file in chunks: the BOM (SPREADSHEET) and the header in the first, then the rows as
 * `cellsOf` gives them. Lazy: it reads `rows` as it goes, so a stream of any length keeps memory
 * flat (`Readable.from()` turns it into a response body).
 */
export function* csvDocument<T>(
  header: readonly string[],
  rows: Iterable<T>,
  cellsOf: (row: T) => readonly CsvCell[],
  { dialect = SPREADSHEET, chunkSize = 16 * 1024 }: CsvDocumentOptions = {},
): Generator<string> {
  let chunk = (dialect.bom ? BOM : '') + csvLine(header, dialect);
  for (const row of rows) {
    chunk += csvLine(cellsOf(row), dialect);
    if (chunk.length >= chunkSize) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
