// The start banner (issue 18.7): when a person started the appliance in a terminal, where to open the
// admin UI and the kiosk, and the first admin's one-time password if one was just generated, in
// English and Chinese. The JSON log lines stay as they are (journald and log files read those);
// this block is written only when stdout is a terminal (process.stdout.isTTY).
import { networkInterfaces } from 'node:os';

export interface BannerFacts {
  version: string;
  /** Base URLs of the HTTP server, e.g. `http://192.168.1.20:8080` (the first is shown first). */
  baseUrls: string[];
  mqttPort: number;
  /** 0 or null: no MQTT-over-TLS listener. */
  mqttsPort: number | null;
  /** The first admin's password generated at this start (API-4), or null. */
  oneTimePassword: string | null;
}

/** The human-readable block (plain text, ends with a newline). */
export function startBanner(facts: BannerFacts): string {
  const [first] = facts.baseUrls;
  const lines = [
    '',
    `  MCS Edge ${facts.version} is running / MCS Edge ${facts.version} 已启动`,
    '',
    `  Admin UI / 管理界面:        ${first}/admin`,
    ...facts.baseUrls.slice(1).map((url) => `                              ${url}/admin`),
    `  Kiosk / 看板:               ${first}/dashboard  (open it with a kiosk link from Admin → Users / 用管理界面的看板链接打开)`,
    `  MQTT for detectors / 探测器: port 端口 ${facts.mqttPort}${facts.mqttsPort ? `, TLS ${facts.mqttsPort}` : ''}`,
  ];
  if (facts.oneTimePassword) {
    lines.push(
      '',
      `  First login / 首次登录:      user 用户名 admin, one-time password 一次性密码 ${facts.oneTimePassword}`,
      '  It is shown only now and must be changed at the first login. / 仅显示这一次，首次登录时必须修改。',
    );
  }
  lines.push('', '  Stop with Ctrl-C. / 按 Ctrl-C 停止。', '');
  return lines.map((line) => `${line}\n`).join('');
}

/**
 * The base URLs a person can open: for a wildcard listener (0.0.0.0, ::) `localhost` and each
 * external IPv4 address of this machine; otherwise the configured host.
 */
export function baseUrlsOf(host: string, port: number, https: boolean, interfaces = networkInterfaces()): string[] {
  const scheme = https ? 'https' : 'http';
  const url = (name: string) => `${scheme}://${name.includes(':') ? `[${name}]` : name}:${port}`;
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return [url(host)];
  const external = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((address) => address.family === 'IPv4' && !address.internal)
    .map((address) => address.address);
  return [url('localhost'), ...external.map(url)];
}
