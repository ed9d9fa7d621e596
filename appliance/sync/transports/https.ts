// SYNC-4: an HTTPS endpoint (a SCADA/MES, a regulator's platform) as a target. A frame is POSTed as the
// documented envelope in batches of at most `batch_records`; it is acknowledged when every batch got
// a 2xx. Each request carries X-MCS-Box and X-MCS-Timestamp (UTC ms) and, with `hmac_secret`,
// X-MCS-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}"> over the body as sent, so a
// receiver can refuse a forged or replayed batch.
//
// With `sm4_key` (some provincial platforms require Chinese commercial cryptography): the body is the
// envelope encrypted with SM4-CBC (GB/T 32907-2016, PKCS#7 padding) under a fresh random IV, sent in
// base64 with X-MCS-Encryption: sm4-cbc, X-MCS-IV (hex) and X-MCS-SM3-HMAC: hex HMAC-SM3 (GB/T
// 32905-2016) of the raw ciphertext keyed by the same 16-byte key. Node's OpenSSL has both.
//
// After a failure (network, timeout, non-2xx) the transport waits with backoff and full jitter
// (./backoff.ts) before the next attempt; meanwhile state().connected is false and send() refuses at
// once. SYNC-5: with cloud_commands on, an answer `{"commands":[…]}` hands each command to onCommand.
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Clock } from '../../contract/clock.ts';
import type { Logger } from '../../core/log.ts';
import type { HttpsTarget, TransportState, UplinkRecord, UplinkTransport } from '../../contract/uplink.ts';
import { createBackoff, type BackoffOptions } from './backoff.ts';
import { UplinkTransportError, describeFailure, failed, safeUrl, say, words, type Words } from './failures.ts';

export const MCS_HEADERS = {
  box: 'x-mcs-box',
  timestamp: 'x-mcs-timestamp',
  signature: 'x-mcs-signature',
  encryption: 'x-mcs-encryption',
  iv: 'x-mcs-iv',
  sm3: 'x-mcs-sm3-hmac',
} as const;

/** The most of an answer body kept (commands, an error's reason). */
const MAX_ANSWER_BYTES = 1024 * 1024;

export interface HttpsTransportContext {
  boxId: string;
  log: Logger;
  clock?: Clock;
  backoff?: BackoffOptions;
}

export function signature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export interface SealedBody {
  /** base64 of the ciphertext: the request body. */
  body: string;
  ivHex: string;
  /** hex HMAC-SM3 of the raw ciphertext, keyed by the SM4 key. */
  macHex: string;
}

/** SM4-CBC (PKCS#7) under `iv` (a fresh random one by default) + HMAC-SM3 of the ciphertext. */
export function sealSm4(plain: string, keyHex: string, iv: Buffer = randomBytes(16)): SealedBody {
  const key = Buffer.from(keyHex, 'hex');
  const cipher = createCipheriv('sm4-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return { body: ciphertext.toString('base64'), ivHex: iv.toString('hex'), macHex: createHmac('sm3', key).update(ciphertext).digest('hex') };
}

export interface PlannedRequest {
  body: string;
  headers: Record<string, string>;
}

/** The body and headers of one POST of `envelope` (JSON text) at `timestamp`. */
export function planRequest(target: Pick<HttpsTarget, 'hmac_secret' | 'sm4_key'>, box: string, envelope: string, timestamp: number): PlannedRequest {
  const headers: Record<string, string> = {
    'user-agent': 'mcs-edge',
    [MCS_HEADERS.box]: box,
    [MCS_HEADERS.timestamp]: String(timestamp),
  };
  let body = envelope;
  if (target.sm4_key) {
    const sealed = sealSm4(envelope, target.sm4_key);
    body = sealed.body;
    headers['content-type'] = 'application/octet-stream';
    headers[MCS_HEADERS.encryption] = 'sm4-cbc';
    headers[MCS_HEADERS.iv] = sealed.ivHex;
    headers[MCS_HEADERS.sm3] = sealed.macHex;
  } else {
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  if (target.hmac_secret) headers[MCS_HEADERS.signature] = signature(target.hmac_secret, timestamp, body);
  return { body, headers };
}

function envelopeJson(box: string, records: UplinkRecord[]): string {
  return JSON.stringify({ v: 1, box, records });
}

interface Answer {
  status: number;
  text: string;
  location: string | undefined;
}

/** A non-2xx answer in words; null for 2xx. */
export function statusWords(answer: Answer): Words | null {
  const { status } = answer;
  if (status >= 200 && status < 300) return null;
  const reason = answer.text.replace(/\s+/g, ' ').trim().slice(0, 200);
  if (status >= 300 && status < 400) {
    return words(`HTTP ${status}: the endpoint moved to ${answer.location ?? '?'} (use the final URL)`, `HTTP ${status}：接收地址已迁移到 ${answer.location ?? '?'}（请使用最终地址）`);
  }
  if (status === 401 || status === 403) {
    return words(`HTTP ${status}: the server refused the request (check the HMAC secret and the SM4 key)${reason ? `: ${reason}` : ''}`, `HTTP ${status}：服务器拒绝了请求（请检查 HMAC 密钥和 SM4 密钥）${reason ? `：${reason}` : ''}`);
  }
  if (status === 413) {
    return words(`HTTP 413: the batch is too large for the server (lower batch_records)`, `HTTP 413：批次过大（请减小 batch_records）`);
  }
  return words(`HTTP ${status} from the server${reason ? `: ${reason}` : ''}`, `服务器返回 HTTP ${status}${reason ? `：${reason}` : ''}`);
}

export function createHttpsTransport(target: HttpsTarget, context: HttpsTransportContext): UplinkTransport {
  const log = context.log;
  const now = () => context.clock?.now() ?? Date.now();
  let url: URL | null = null;
  try {
    url = new URL(target.url);
  } catch {
    // Every send and test says so below; creating the transport never throws.
  }
  // Not the text itself in the words: a URL may carry a token.
  const badUrl = words('the target URL is not a valid URL', '目标地址不是有效的 URL');
  const secure = url?.protocol === 'https:';
  const where = url ? `${url.hostname}:${url.port || (secure ? 443 : 80)}` : '(invalid URL)';
  const timeoutMs = target.timeout_s * 1000;
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: target.inflight, ca: target.ca || undefined })
    : new HttpAgent({ keepAlive: true, maxSockets: target.inflight });
  const backoff = createBackoff(context.backoff);
  const stateHandlers: Array<(state: TransportState) => void> = [];
  const commandHandlers: Array<(command: unknown) => void> = [];
  let connected = false;
  let lastError: string | null = null;
  let waitTimer: NodeJS.Timeout | null = null;
  let closed = false;

  const state = (): TransportState => ({ connected, lastError });
  const emitState = () => {
    const snapshot = state();
    for (const handler of stateHandlers) handler(snapshot);
  };

  function post(planned: PlannedRequest): Promise<Answer> {
    return new Promise((resolve, reject) => {
      if (!url) return reject(new UplinkTransportError(say(badUrl)));
      const request = secure ? httpsRequest : httpRequest;
      const req = request(
        url,
        { method: 'POST', agent, headers: { ...planned.headers, 'content-length': String(Buffer.byteLength(planned.body)) } },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
            size += chunk.length;
          });
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), location: res.headers.location });
          });
          res.on('error', reject);
        },
      );
      const timer = setTimeout(() => {
        req.destroy(Object.assign(new Error(`no answer within ${target.timeout_s} s`), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end(planned.body);
    });
  }

  function requestFailure(err: unknown): Words {
    if (!url) return badUrl;
    if ((err as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
      return words(`${where}: no answer within ${target.timeout_s} s`, `${where}：${target.timeout_s} 秒内无响应`);
    }
    return describeFailure(err, where);
  }

  /** One POST; resolves with the body bytes on 2xx, throws the reason in words otherwise. */
  async function postEnvelope(envelope: string): Promise<number> {
    let planned: PlannedRequest;
    try {
      planned = planRequest(target, context.boxId, envelope, now());
    } catch (err) {
      throw new UplinkTransportError(say(words(`cannot prepare the request: ${(err as Error).message}`, `无法生成请求：${(err as Error).message}`)));
    }
    let answer: Answer;
    try {
      answer = await post(planned);
    } catch (err) {
      throw new UplinkTransportError(say(requestFailure(err)));
    }
    const bad = statusWords(answer);
    if (bad) throw new UplinkTransportError(say(bad));
    if (target.cloud_commands) deliverCommands(answer.text);
    return Buffer.byteLength(planned.body);
  }

  function deliverCommands(text: string): void {
    if (!text.trim()) return;
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      return; // an answer without commands need not be JSON
    }
    const commands = (answer as { commands?: unknown })?.commands;
    if (commands === undefined) return;
    if (!Array.isArray(commands)) {
      log.warn('cloud answer: "commands" is not a list; ignored');
      return;
    }
    for (const command of commands) {
      for (const handler of commandHandlers) {
        try {
          handler(command);
        } catch (err) {
          log.error({ err }, 'cloud command handler failed');
        }
      }
    }
  }

  /** A failed attempt: not ready until a backoff wait (jittered) has passed. */
  function onFailure(error: UplinkTransportError): void {
    if (waitTimer || closed) return; // one wait per failure streak window, not one per concurrent request
    connected = false;
    const first = lastError !== error.message;
    lastError = error.message;
    const delay = backoff.next();
    if (first) log.warn({ endpoint: safeUrl(target.url), error: lastError, retryInMs: delay }, 'cloud batch not accepted');
    else log.debug({ error: lastError, retryInMs: delay, failures: backoff.failures }, 'cloud batch not accepted');
    waitTimer = setTimeout(() => {
      waitTimer = null;
      if (closed) return;
      connected = true;
      emitState();
    }, delay);
    emitState();
  }

  /** A 2xx (possibly of a request that started before a failure): the endpoint works, no need to wait. */
  function onSuccess(): void {
    backoff.reset();
    if (waitTimer) clearTimeout(waitTimer);
    waitTimer = null;
    if (lastError === null && connected) return;
    if (lastError !== null) log.info({ endpoint: safeUrl(target.url) }, 'cloud endpoint accepts batches again');
    lastError = null;
    connected = !closed;
    emitState();
  }

  return {
    start() {
      if (connected || waitTimer || closed) return;
      connected = true;
      emitState();
    },
    state,
    async send(frame) {
      if (closed) throw new UplinkTransportError(say(words('the uplink transport was closed', '上行传输已关闭')));
      if (waitTimer) throw new UplinkTransportError(lastError ?? say(words(`waiting before the next attempt to ${where}`, `等待后再次尝试 ${where}`)));
      let bytes = 0;
      try {
        // Batches in order, one after the other: the frame is acknowledged when all of them are.
        for (let start = 0; start < frame.records.length; start += target.batch_records) {
          bytes += await postEnvelope(envelopeJson(context.boxId, frame.records.slice(start, start + target.batch_records)));
        }
      } catch (err) {
        if (err instanceof UplinkTransportError) onFailure(err);
        throw err;
      }
      onSuccess();
      return bytes;
    },
    onCommand(handler) {
      commandHandlers.push(handler);
    },
    onState(handler) {
      stateHandlers.push(handler);
    },
    async test() {
      const startedAt = Date.now();
      try {
        const planned = planRequest(target, context.boxId, envelopeJson(context.boxId, []), now());
        const answer = await post(planned);
        const bad = statusWords(answer);
        if (bad) return failed(bad);
        const elapsed = Date.now() - startedAt;
        const extras = [target.hmac_secret ? 'HMAC-SHA256' : '', target.sm4_key ? 'SM4-CBC + HMAC-SM3' : ''].filter(Boolean).join(', ');
        return say(
          words(
            `OK: ${safeUrl(target.url)} accepted an empty batch with HTTP ${answer.status}${extras ? ` (${extras})` : ''} in ${elapsed} ms`,
            `成功：${safeUrl(target.url)} 以 HTTP ${answer.status} 接受了空批次${extras ? `（${extras}）` : ''}，用时 ${elapsed} 毫秒`,
          ),
        );
      } catch (err) {
        return failed(requestFailure(err));
      }
    },
    async close() {
      closed = true;
      if (waitTimer) clearTimeout(waitTimer);
      waitTimer = null;
      agent.destroy();
      if (connected) {
        connected = false;
        emitState();
      }
    },
  };
}
