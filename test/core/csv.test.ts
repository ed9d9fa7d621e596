// The one CSV writer (issue 14.10): RFC 4180 quoting, the OWASP CSV-injection guard, the two
// dialects (a spreadsheet's BOM + CRLF, the seed data format's LF) and chunked documents.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BOM, csvDocument, csvField, csvLine, DATA, SPREADSHEET } from '../../appliance/core/csv.ts';

describe('CSV cells', () => {
  test('a cell a spreadsheet would run as a formula gets an apostrophe; numbers, inner = and empty cells stay as they are', () => {
    assert.deepEqual(
      ['=1+1', '+1', '-5', '-0.5e3', '@SUM(A1)', '\tcmd', '\rcmd', '-', 'a=b', '', '=HYPERLINK("http://x","y")'].map(csvField),
      ["'=1+1", '+1', '-5', '-0.5e3', "'@SUM(A1)", "'\tcmd", `"'\rcmd"`, "'-", 'a=b', '', `"'=HYPERLINK(""http://x"",""y"")"`],
    );
  });

  test('RFC 4180: commas, quotes, CR and LF put the cell in quotes with quotes doubled; null is empty, numbers as printed', () => {
    assert.deepEqual(
      ['a,b', 'say "ok"', 'line\nbreak', 'cr\rhere', '探头故障', null, undefined, 0, -12.5, 1e21].map(csvField),
      ['"a,b"', '"say ""ok"""', '"line\nbreak"', '"cr\rhere"', '探头故障', '', '', '0', '-12.5', '1e+21'],
    );
  });

  test('a line ends with the dialect: CRLF for spreadsheets (the default), LF for the seed data format', () => {
    assert.equal(csvLine(['a', 1, null, '=x']), "a,1,,'=x\r\n");
    assert.equal(csvLine(['a', 1, null], SPREADSHEET), 'a,1,\r\n');
    assert.equal(csvLine(['2026-01-05T01:02:03.004Z', 'GD-1', -10.5], DATA), '2026-01-05T01:02:03.004Z,GD-1,-10.5\n');
  });
});

describe('CSV documents', () => {
  const rows = Array.from({ length: 500 }, (_, i) => ({ id: i + 1, note: i % 2 ? `n,${i}` : `=${i}` }));

  test('a spreadsheet document starts with the BOM and the header, and only the first chunk has them', () => {
    const chunks = [...csvDocument(['ID', 'Note'], rows, (r) => [r.id, r.note], { chunkSize: 1024 })];
    assert.ok(chunks.length > 3, `${chunks.length} chunks`);
    assert.ok(chunks[0].startsWith(`${BOM}ID,Note\r\n1,'=0\r\n2,"n,1"\r\n`));
    assert.ok(chunks.slice(1).every((c) => !c.includes(BOM) && !c.includes('ID,Note')));
    const lines = chunks.join('').slice(1).split('\r\n');
    assert.equal(lines.length, 502, 'header, 500 rows and the empty string after the last CRLF');
    assert.equal(lines.at(-2), `500,"n,499"`);
  });

  test('a data document has no BOM and LF line ends; with no rows it is the header alone', () => {
    assert.deepEqual([...csvDocument(['time', 'sn'], [['t', 'A1']], (r) => r, { dialect: DATA })], ['time,sn\nt,A1\n']);
    assert.deepEqual([...csvDocument(['编号'], [], () => [])], [`${BOM}编号\r\n`]);
  });

  test('rows are read as the chunks are taken (a stream of any length keeps memory flat)', () => {
    let read = 0;
    function* source() {
      for (let i = 0; i < 10_000; i++) (read++, yield i);
    }
    const chunks = csvDocument(['n'], source(), (n) => [n], { chunkSize: 256 });
    chunks.next();
    assert.ok(read < 100, `${read} rows read for the first chunk`);
  });
});
