// Issue 17.7: what went wrong with a cloud link, in words an operator can act on (English / 中文):
// the admin page shows it as the target's last error, the test button as its answer. Never a
// secret: only the host, the port, the client id and the server's or the TLS stack's reason.

/** A send or connection failure; its message is the line the admin sees. */
export class UplinkTransportError extends Error {
  override readonly name = 'UplinkTransportError';
}

/** A line in both languages: the admin page shows `English / 中文`. */
export interface Words {
  en: string;
  zh: string;
}

export function words(en: string, zh: string): Words {
  return { en, zh };
}

export function say(line: Words): string {
  return `${line.en} / ${line.zh}`;
}

/** The test button's answer when it failed. */
export function failed(line: Words): string {
  return say(words(`Failed: ${line.en}`, `失败：${line.zh}`));
}

/** An MQTT 5 DISCONNECT from the broker, with its reason code. */
export class BrokerDisconnect extends Error {
  constructor(readonly reasonCode: number) {
    super('broker disconnect');
  }
}

const DISCONNECT_REASONS: Record<number, Words> = {
  135: { en: 'not authorised', zh: '未授权' },
  137: { en: 'server busy', zh: '服务器繁忙' },
  139: { en: 'the server is shutting down', zh: '服务器正在关闭' },
  141: { en: 'keepalive timeout', zh: '保活超时' },
  142: { en: 'session taken over (another client connected with the same client id)', zh: '会话被接管（另一客户端使用了相同的客户端 ID）' },
  149: { en: 'packet too large', zh: '报文过大' },
  150: { en: 'message rate too high', zh: '消息速率过高' },
  151: { en: 'quota exceeded', zh: '超出配额' },
  152: { en: 'administrative action', zh: '管理员操作' },
  156: { en: 'use another server', zh: '请使用其他服务器' },
  157: { en: 'the server moved', zh: '服务器已迁移' },
};

const TLS_TRUST = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|TLS not authorized/i;

/** MQTT CONNACK refusals (3.1.1 return codes 1-5 and MQTT 5 reason codes ≥ 0x80). */
function connackWords(code: number, reason: string): Words {
  switch (code) {
    case 4:
    case 134:
      return words('the broker refused the user name or password', '服务器拒绝了用户名或密码');
    case 5:
    case 135:
      return words(
        'the broker refused the connection: not authorised (check the user name, the password and the client id)',
        '服务器拒绝连接：未授权（请检查用户名、密码和客户端 ID）',
      );
    case 2:
    case 133:
      return words('the broker refused the client id', '服务器拒绝了客户端 ID');
    case 1:
    case 132:
      return words('the broker does not speak this MQTT version (try 3.1.1 or 5)', '服务器不支持该 MQTT 版本（请改用 3.1.1 或 5）');
    case 3:
    case 136:
    case 137:
      return words('the broker is unavailable or busy', '服务器不可用或繁忙');
    case 138:
      return words('the broker has banned this client', '该客户端已被服务器封禁');
    default:
      return words(`the broker refused the connection: ${reason} (code ${code})`, `服务器拒绝连接：${reason}（代码 ${code}）`);
  }
}

/**
 * The words for a network, TLS or MQTT failure reaching `where` (host:port). Unknown failures keep
 * their own message, so nothing is hidden.
 */
export function describeFailure(err: unknown, where: string): Words {
  const error = err instanceof Error ? err : new Error(String(err));
  const code = (error as NodeJS.ErrnoException).code;
  const message = error.message;
  if (message.startsWith('Connection refused:') && typeof (error as { code?: unknown }).code === 'number') {
    return connackWords((error as unknown as { code: number }).code, message.slice('Connection refused:'.length).trim());
  }
  if (message.startsWith('Publish error:')) {
    const reason = message.slice('Publish error:'.length).trim();
    const reasonCode = (error as { code?: unknown }).code;
    return words(`${where} refused the message: ${reason} (MQTT 5 reason code ${reasonCode})`, `${where} 拒绝了该消息：${reason}（MQTT 5 原因码 ${reasonCode}）`);
  }
  if (error instanceof BrokerDisconnect) {
    const reason = DISCONNECT_REASONS[error.reasonCode] ?? { en: 'no reason given', zh: '未说明原因' };
    return words(
      `${where} closed the connection: ${reason.en} (MQTT 5 reason code ${error.reasonCode})`,
      `${where} 关闭了连接：${reason.zh}（MQTT 5 原因码 ${error.reasonCode}）`,
    );
  }
  if (message === 'connack timeout') {
    return words(`no answer to CONNECT from ${where} (timeout)`, `${where} 未响应 CONNECT（超时）`);
  }
  if (message === 'Keepalive timeout') {
    return words(
      `the link to ${where} froze: no answer within 1.5× the keepalive`,
      `到 ${where} 的链路冻结：1.5 倍保活时间内无响应`,
    );
  }
  switch (code) {
    case 'ECONNREFUSED':
      return words(`connection refused by ${where} (nothing listening there?)`, `${where} 拒绝连接（该端口没有服务？）`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return words(`host name not found: ${where}`, `找不到主机名：${where}`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ENETDOWN':
      return words(`host unreachable: ${where}`, `主机不可达：${where}`);
    case 'ETIMEDOUT':
      return words(`timed out reaching ${where}`, `连接 ${where} 超时`);
    case 'ECONNRESET':
    case 'EPIPE':
      return words(`connection reset by ${where}`, `连接被 ${where} 重置`);
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/i.test(message)) {
    return words(`TLS failed: ${where} does not speak TLS (a plain port?)`, `TLS 失败：${where} 不是 TLS 端口？`);
  }
  if (/certificate required|alert handshake failure|peer did not return a certificate/i.test(`${code} ${message}`)) {
    return words(
      `TLS failed: ${where} wants a client certificate it accepts (${code ?? message})`,
      `TLS 失败：${where} 要求可接受的客户端证书（${code ?? message}）`,
    );
  }
  if (TLS_TRUST.test(`${code ?? ''} ${message}`)) {
    return words(
      `TLS failed: the certificate of ${where} is not trusted (${code ?? message}); set the CA certificate`,
      `TLS 失败：${where} 的证书不受信任（${code ?? message}）；请设置 CA 证书`,
    );
  }
  if (code?.startsWith('ERR_SSL') || code?.startsWith('ERR_TLS') || code === 'EPROTO') {
    return words(`TLS failed with ${where}: ${message}`, `与 ${where} 的 TLS 失败：${message}`);
  }
  if (message === 'Connection closed' || message === 'client disconnecting') {
    return words(`the connection to ${where} was lost`, `与 ${where} 的连接已断开`);
  }
  return words(`${where}: ${message}`, `${where}：${message}`);
}

/** A URL for messages and logs: the credentials in it (user:password@, a query) are left out. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

const DEFAULT_PORTS: Record<string, number> = { 'mqtt:': 1883, 'mqtts:': 8883, 'ws:': 80, 'wss:': 443 };

/** host:port of a broker URL (the default port of its scheme when it has none), for messages. */
export function whereOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || DEFAULT_PORTS[parsed.protocol] || '?'}`;
  } catch {
    return '(invalid URL)'; // not the text itself: it may hold credentials
  }
}
