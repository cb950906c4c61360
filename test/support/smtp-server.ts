// A real SMTP server (the npm smtp-server package) on a free loopback port for the portal's
// test-link email: no authentication and no STARTTLS (loopback only), every message kept in
// memory for tests to read, and optionally announced (console, a file) so a person running
// `make run` sees the email a test user would get.
import { appendFileSync } from 'node:fs';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../controlplane/controlplane.ts';
import { waitFor } from './wait.ts';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  /** The decoded text of the message's text/plain (or, without one, text/html) part. */
  text: string;
  /** The message as it arrived (headers and MIME body). */
  raw: string;
  /** The whole message with quoted-printable soft line breaks and escapes undone (links are whole again). */
  decoded: string;
}

const MAX_MESSAGE_BYTES = 1_048_576;

function headerOf(head: string, name: string): string | undefined {
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  return new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(unfolded)?.[1]?.trim();
}

function decodeQuotedPrintable(body: string): string {
  const soft = body.replace(/=\r?\n/g, '');
    const bytes: number[] = [];
    for (let i = 0; i < soft.length; i++) {
      const hex = soft[i] === '=' ? soft.slice(i + 1, i + 3) : '';
      if (/^[0-9A-F]{2}$/i.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else bytes.push(...Buffer.from(soft[i] ?? ''));
    }
    return Buffer.from(bytes).toString('utf8');
}

function decodeBody(body: string, encoding: string | undefined): string {
  const e = (encoding ?? '7bit').toLowerCase();
  if (e === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return e === 'quoted-printable' ? decodeQuotedPrintable(body) : body;
}

/** A MIME entity's decoded text: the text/plain part of a multipart message, else the first text part. */
function textOf(entity: string): string {
  const split = /\r?\n\r?\n/.exec(entity);
  const head = split ? entity.slice(0, split.index) : entity;
  const body = split ? entity.slice(split.index + split[0].length) : '';
  const type = headerOf(head, 'Content-Type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const parts = body.split(`--${boundary}`).slice(1).filter((p) => !p.startsWith('--'));
    const texts = parts.map((p) => ({ type: headerOf(p.replace(/^\r?\n/, '').split(/\r?\n\r?\n/)[0] ?? '', 'Content-Type') ?? '', text: textOf(p.replace(/^\r?\n/, '')) }));
    return (texts.find((t) => /^text\/plain/i.test(t.type)) ?? texts.find((t) => t.text))?.text ?? '';
  }
  return decodeBody(body, headerOf(head, 'Content-Transfer-Encoding'));
}

export class MailCatcher {
  readonly port: number;
  readonly messages: ReceivedMail[];
  private readonly server: SMTPServer;

  private constructor(port: number, server: SMTPServer, messages: ReceivedMail[]) {
    this.port = port;
    this.server = server;
    this.messages = messages;
  }

  /** What the portal's --smtp-url takes. */
  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** `announce` gets each message as it arrives; `logFile` collects them too. */
  static async start(o: { announce?: (mail: ReceivedMail) => void; logFile?: string } = {}): Promise<MailCatcher> {
    const port = await freePort();
    const messages: ReceivedMail[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      size: MAX_MESSAGE_BYTES,
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const head = raw.split(/\r?\n\r?\n/)[0] ?? '';
          const mail: ReceivedMail = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: headerOf(head, 'Subject') ?? '',
            text: textOf(raw),
            raw,
            decoded: decodeQuotedPrintable(raw),
          };
          messages.push(mail);
          o.announce?.(mail);
          if (o.logFile) appendFileSync(o.logFile, `From: ${mail.from}\nTo: ${mail.to.join(', ')}\nSubject: ${mail.subject}\n\n${mail.text}\n\n----\n`);
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return new MailCatcher(port, server, messages);
  }

  /** The first message to `address` (case-insensitive), waiting for it. */
  async waitFor(address: string, timeoutMs = 30_000): Promise<ReceivedMail> {
    return waitFor(`an email to ${address}`, async () => this.messages.find((m) => m.to.some((t) => t.toLowerCase() === address.toLowerCase())), timeoutMs, () => `received: ${this.messages.map((m) => `${m.to.join(',')}: ${m.subject}`).join('; ') || 'nothing'}`);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
