// A real SMTP server (npm smtp-server) on a free loopback port that keeps every message it
// receives, for tests of email the portal sends. No TLS, no authentication: loopback only.
import { SMTPServer } from 'smtp-server';
import { freePort } from '../controlplane/controlplane.ts';
import { waitFor } from './wait.ts';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The message as it arrived (headers and MIME body). */
  raw: string;
  /** The message with quoted-printable soft line breaks and escapes undone (links are whole again). */
  decoded: string;
  subject: string;
}

function decodeQuotedPrintable(s: string): string {
  const bytes = Buffer.from(s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  return bytes.toString('utf8');
}

export class MailCatcher {
  readonly url: string;
  readonly messages: ReceivedMail[] = [];
  private readonly server: SMTPServer;

  private constructor(server: SMTPServer, port: number) {
    this.server = server;
    this.url = `smtp://127.0.0.1:${port}`;
  }

  static async start(): Promise<MailCatcher> {
    const port = await freePort();
    let catcher: MailCatcher | undefined;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      size: 1_048_576,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', callback);
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const subject = /^Subject: (.*(?:\r?\n[ \t].*)*)/im.exec(raw)?.[1]?.replace(/\r?\n[ \t]/g, ' ') ?? '';
          catcher?.messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw, decoded: decodeQuotedPrintable(raw), subject });
          callback();
        });
      },
    });
    server.on('error', () => {});
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    catcher = new MailCatcher(server, port);
    return catcher;
  }

  /** The first message to `address` (waits for it). */
  async waitFor(address: string, timeoutMs = 30_000): Promise<ReceivedMail> {
    return waitFor(`an email to ${address}`, async () => this.messages.find((m) => m.to.includes(address)), timeoutMs, () => `${this.messages.length} messages: ${this.messages.map((m) => m.to.join(',')).join('; ')}`);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
