// ALM-5: e-mail over SMTP (nodemailer): implicit TLS or STARTTLS, optional login, recipient list.
import { EmailSettings } from './settings.ts';
import { isTlsSetupError } from './http.ts';
import type { Channel, SendResult } from './types.ts';
import { isEmailAddress, shorten, validateSettings } from './validate.ts';

export const email: Channel<EmailSettings> = {
  kind: 'email',
  settings: EmailSettings,
  secretFields: ['pass'],
  validate: (input) =>
    validateSettings('email', EmailSettings, input, ['pass'], (s, report) => {
      if (typeof s.from === 'string' && s.from && !isEmailAddress(s.from, true)) {
        report('from', `'${shorten(s.from)}' is not an e-mail address`);
      }
      if (Array.isArray(s.recipients)) {
        s.recipients.forEach((to, i) => {
          if (typeof to === 'string' && !isEmailAddress(to)) report(`recipients.${i}`, `'${shorten(to)}' is not an e-mail address`);
        });
      }
      if (Array.isArray(s.escalation_to)) {
        s.escalation_to.forEach((to, i) => {
          if (typeof to === 'string' && !isEmailAddress(to)) report(`escalation_to.${i}`, `'${shorten(to)}' is not an e-mail address`);
        });
      }
      if (s.secure === true && s.starttls === true) report('starttls', 'choose one: secure (TLS from the start) or STARTTLS');
      if (s.user && !s.pass) report('pass', 'required when user is set');
      if (s.pass && !s.user) report('user', 'required when pass is set');
    }),
  async send(_notice, rendered, settings, options) {
    // Loaded at the first e-mail, not at start (PKG-1 start time).
    const { default: nodemailer } = await import('nodemailer');
    const transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      requireTLS: settings.starttls,
      auth: settings.user ? { user: settings.user, pass: settings.pass ?? '' } : undefined,
      // Each phase is bounded by the attempt's budget; the abort signal bounds the whole.
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      dnsTimeout: options.timeoutMs,
      socketCloseTimeout: 0,
      tls: { rejectUnauthorized: settings.tls_verify },
    });
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    try {
      const info = await transport.sendMail({
        from: settings.from,
        to: settings.recipients,
        subject: rendered.title,
        text: rendered.text,
        signal,
      });
      const rejected = info.rejected.length ? `; rejected: ${info.rejected.join(', ')}` : '';
      return { ok: true, detail: `${info.response}${rejected}` };
    } catch (err) {
      if (timeout.aborted) return { ok: false, detail: `timed out after ${options.timeoutMs} ms`, retryable: true };
      return smtpFailure(err as SmtpError);
    } finally {
      transport.close();
    }
  },
};

interface SmtpError extends Error {
  code?: string;
  response?: string;
  responseCode?: number;
  permanent?: boolean;
  /** The socket's own code behind ESOCKET/ECONNECTION, e.g. ECONNREFUSED or DEPTH_ZERO_SELF_SIGNED_CERT. */
  originalCode?: string;
}

// Errors that repeat until someone changes the settings or the server's configuration.
const PERMANENT_CODES = new Set(['EAUTH', 'ENOAUTH', 'ECONFIG', 'EENVELOPE', 'EMESSAGE', 'EREQUIRETLS', 'ETLS', 'EMAXRECIPIENTS']);

const NODE_CA_HINT = /;?\s*if the root CA is installed locally, try running Node\.js with --use-system-ca/i;

/** ALM-6: 4xx replies and lost connections retry; 5xx replies, login, TLS and certificate failures do not. */
export function smtpFailure(err: SmtpError): SendResult {
  // Node 24 appends a hint to certificate errors ("…; if the root CA is installed locally, try running
  // Node.js with --use-system-ca") that an operator of the appliance cannot act on: dropped.
  const reason = (err.response ?? err.message).replace(NODE_CA_HINT, '').replace(/\s+/g, ' ').trim();
  const original = err.originalCode && err.originalCode !== err.code ? ` (${err.originalCode})` : '';
  const detail = `${err.code ? `${err.code}: ` : ''}${reason}${original}`;
  if (typeof err.responseCode === 'number') {
    const transient = err.responseCode < 500 || err.responseCode === 503;
    return { ok: false, detail, retryable: err.permanent === undefined ? transient : !err.permanent };
  }
  if (isTlsSetupError(err.originalCode ?? err.code)) return { ok: false, detail, retryable: false };
  return { ok: false, detail, retryable: !PERMANENT_CODES.has(err.code ?? '') };
}
