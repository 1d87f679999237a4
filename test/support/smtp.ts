import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Received {
  to: string[];
  from: string;
  raw: string;
  mail: ParsedMail;
}

/**
 * A real SMTP server on a loopback port, keeping what it accepts. `refuse`
 * answers 550 for recipients it matches (a bounce); `onMessage` runs before
 * a message is accepted and may keep it from being accepted by throwing.
 */
export class SmtpSink {
  readonly received: Received[] = [];
  refuse: (recipient: string) => boolean = () => false;
  onMessage: (recipients: string[]) => Promise<void> | void = () => undefined;
  private constructor(private readonly server: SMTPServer, readonly port: number) {}

  static async start(): Promise<SmtpSink> {
    let sink: SmtpSink | undefined;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      size: 10 * 1024 * 1024,
      onRcptTo(address, _session, callback) {
        if (sink!.refuse(address.address)) return callback(Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 }));
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', async () => {
          const to = session.envelope.rcptTo.map((r) => r.address);
          try {
            await sink!.onMessage(to);
          } catch (error) {
            return callback(Object.assign(new Error((error as Error).message), { responseCode: 451 }));
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          sink!.received.push({ to, from, raw, mail: await simpleParser(raw) });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    sink = new SmtpSink(server, ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port);
    return sink;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  to(address: string): Received[] {
    return this.received.filter((r) => r.to.includes(address));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
