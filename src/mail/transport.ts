import nodemailer, { type Transporter } from 'nodemailer';
import type { EntityManager } from 'typeorm';

/** One message ready to go. `id` is Allied's message id: the same on every attempt. */
export interface OutgoingMessage {
  id: string;
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
}

/**
 * Where mail goes: an SMTP server (SMTP_URL), or, with none configured, the
 * database's outbox (shown at GET /outbox). `send` runs inside the job's
 * transaction, so an outbox row commits with the message's SENT state.
 */
export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  /** Resolves with the Message-ID once the server has accepted the message; rejects when it has not. */
  send(message: OutgoingMessage, manager: EntityManager): Promise<string>;
  close(): Promise<void>;
}

/**
 * The Message-ID of an Allied message: derived from its id, so a message
 * sent again after a crash (the one window no transaction can close: the
 * server accepted it, the process died before recording that) carries the
 * same Message-ID and receiving systems can drop the copy.
 */
export function messageIdHeader(id: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'allied.invalid';
  return `<${id}@${domain}>`;
}

function mailOptions(message: OutgoingMessage) {
  return {
    from: message.from,
    to: message.to,
    subject: message.subject,
    html: message.html,
    text: message.text,
    headers: message.headers,
    messageId: messageIdHeader(message.id, message.from),
    // The envelope is the message's: nothing else is ever copied in.
    envelope: { from: /<([^>]+)>/.exec(message.from)?.[1] ?? message.from, to: [message.to] },
  };
}

/** SMTP through nodemailer, with pooled connections. */
export class SmtpMailer implements Mailer {
  readonly kind = 'smtp' as const;
  private readonly transport: Transporter;

  constructor(url: string, connections: number) {
    const pooled = new URL(url);
    pooled.searchParams.set('pool', 'true');
    pooled.searchParams.set('maxConnections', String(connections));
    this.transport = nodemailer.createTransport(pooled.toString());
  }

  async send(message: OutgoingMessage): Promise<string> {
    const info = await this.transport.sendMail(mailOptions(message));
    if (info.rejected?.length) throw new Error(`The server refused the recipient (${String(info.response ?? '').slice(0, 300)}).`);
    return info.messageId;
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** Development without an SMTP server: the message as it would have been sent, stored in `email_outbox`. */
export class OutboxMailer implements Mailer {
  readonly kind = 'outbox' as const;
  private readonly transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  async send(message: OutgoingMessage, manager: EntityManager): Promise<string> {
    const info = await this.transport.sendMail(mailOptions(message));
    await manager.query(
      `insert into email_outbox (tenant_id, message_id, recipient, subject, raw)
       values ((select allied_current_tenant()), $1, $2, $3, $4)
       on conflict (tenant_id, message_id) do nothing`,
      [message.id, message.to, message.subject, (info.message as Buffer).toString('utf8')],
    );
    return info.messageId;
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
