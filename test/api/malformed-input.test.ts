// API-2: hostile or broken bodies get a 400 in words with the route's business code, never a 500:
// JSON nested thousands of levels deep (it overflowed the stack in structuredClone) on every JSON
// route, and cut-off or malformed multipart uploads of the floor plan.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_NESTING, nestedDeeperThan } from '../../appliance/api/validation.ts';
import { startApi, type ApiApp } from '../helpers/api.ts';

let api: ApiApp;
before(async () => {
  api = await startApi();
});
after(() => api.stop());

const PARAMS: Record<string, string> = { sn: 'A1', username: 'viewer', id: '1', date: '2026-01-01' };
const nestedArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObjects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

/** Every route of the OpenAPI document that takes a JSON body, with its path parameters filled in. */
async function jsonRoutes(): Promise<{ method: string; url: string }[]> {
  const doc = (await api.call('GET', '/api/docs', { token: api.tokens.admin })).body;
  const routes: { method: string; url: string }[] = [];
  for (const [path, operations] of Object.entries<Record<string, { requestBody?: { content?: Record<string, unknown> } }>>(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!operation.requestBody?.content?.['application/json']) continue;
      routes.push({ method: method.toUpperCase(), url: path.replace(/\{(\w+)\}/g, (_, name: string) => PARAMS[name] ?? 'x') });
    }
  }
  return routes;
}

test('nesting is measured without recursion, at any depth', () => {
  assert.equal(nestedDeeperThan(JSON.parse(nestedArrays(100_000)), MAX_NESTING), true);
  assert.equal(nestedDeeperThan(JSON.parse(nestedArrays(MAX_NESTING)), MAX_NESTING), false);
  assert.equal(nestedDeeperThan(JSON.parse(nestedArrays(MAX_NESTING + 1)), MAX_NESTING), true);
  assert.equal(nestedDeeperThan({ a: [{ b: [1, 2, { c: null }] }], d: 'x' }, 5), false);
  assert.equal(nestedDeeperThan({ a: [{ b: [1, 2, { c: {} }] }] }, 5), true);
  assert.equal(nestedDeeperThan('text', 0), false);
});

test('5,000 nested arrays or objects get 400 with the route\'s code and a message in words on every JSON route', async () => {
  const routes = await jsonRoutes();
  assert.ok(routes.length >= 17, `${routes.length} JSON routes found`);
  for (const { method, url } of routes) {
    for (const payload of [nestedArrays(5000), nestedObjects(5000)]) {
      const response = await api.call(method, url, { token: api.tokens.admin, payload, headers: { 'content-type': 'application/json' } });
      assert.equal(response.status, 400, `${method} ${url}: ${response.text}`);
      assert.match(response.body.message, /nested more than 32 levels deep; at most 32 levels are accepted/, `${method} ${url}`);
    }
  }
  const codes = async (method: string, url: string) =>
    (await api.call(method, url, { token: api.tokens.admin, payload: nestedArrays(5000), headers: { 'content-type': 'application/json' } })).body.code;
  assert.equal(await codes('POST', '/api/devices'), 40004);
  assert.equal(await codes('PUT', '/api/config/alarm'), 50001);
  assert.equal(await codes('PUT', '/api/config/storage'), 60001);
  assert.equal(await codes('POST', '/api/auth/login'), 400);
});

test('a body within the nesting bound is judged by the route schema as before', async () => {
  const shallow = await api.call('PUT', '/api/config/dashboard', { token: api.tokens.admin, payload: nestedArrays(MAX_NESTING), headers: { 'content-type': 'application/json' } });
  assert.equal(shallow.status, 400);
  assert.doesNotMatch(shallow.body.message, /nested/);
  const positions = await api.call('POST', '/api/devices/positions', { token: api.tokens.admin, body: { positions: [] } });
  assert.notEqual(positions.status, 500, positions.text);
});

const BOUNDARY = '----mcs-test-boundary';
const PNG_HEAD = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const partHead = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="plan.png"\r\nContent-Type: image/png\r\n\r\n`;

async function upload(payload: Buffer | string, contentType = `multipart/form-data; boundary=${BOUNDARY}`) {
  return api.call('POST', '/api/config/dashboard/bg', { token: api.tokens.admin, payload, headers: { 'content-type': contentType } });
}

test('a cut-off or malformed floor-plan upload gets 400 in words, and nothing is stored', async () => {
  const cases: [string, Awaited<ReturnType<typeof upload>>, RegExp][] = [
    ['cut off inside the image', await upload(Buffer.concat([Buffer.from(partHead), PNG_HEAD, Buffer.alloc(1000, 1)])), /cut off before the image was complete/],
    ['cut off inside the part header', await upload(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filen`), /cut off before the image was complete/],
    ['no boundary', await upload(Buffer.concat([Buffer.from(partHead), PNG_HEAD]), 'multipart/form-data'), /no multipart boundary/],
    ['only the closing boundary', await upload(`--${BOUNDARY}--\r\n`), /no file in the upload/],
    ['empty', await upload(''), /no file in the upload/],
    ['a form field before the file', await upload(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n${partHead}x\r\n--${BOUNDARY}--\r\n`), /exactly one file/],
  ];
  for (const [what, response, message] of cases) {
    assert.equal(response.status, 400, `${what}: ${response.text}`);
    assert.equal(response.body.code, 400, what);
    assert.match(response.body.message, message, what);
  }
  assert.equal((await api.call('GET', '/api/config/dashboard', { token: api.tokens.admin })).body.background, null);
});
