import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DependencyUnavailableError } from '../../oauth/errors.ts';
import type { Mailer, MailMessage } from '../../oauth/ports.ts';
import type { MailSender } from './ses-mailer.ts';

/** RFC 2047 encoded-word for a header that is not plain ASCII (a subject with the service's name, say). */
function headerText(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  return `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** The parts as base64 lines of 76 characters (RFC 2045 §6.8): any text, any line length. */
const base64Lines = (text: string) =>
  (
    Buffer.from(text, 'utf8')
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\r\n');

/** An RFC 5322 message with a text and an HTML alternative (RFC 2046 §5.1.4). */
export function emlOf(message: MailMessage, sender: MailSender, date: Date, boundary: string): string {
  const part = (type: string, body: string) =>
    [
      `--${boundary}`,
      `Content-Type: ${type}; charset=UTF-8`,
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(body),
    ].join('\r\n');
  return [
    `From: ${sender.from}`,
    `To: ${message.to}`,
    ...(sender.replyTo ? [`Reply-To: ${sender.replyTo}`] : []),
    `Subject: ${headerText(message.subject)}`,
    `Date: ${date.toUTCString()}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    part('text/plain', message.text),
    part('text/html', message.html),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/**
 * Local mode's mail: one `.eml` file per message in `<data dir>/outbox/` (any mail client opens
 * it), and the message's link handed to `announce`, which the local server prints, so that a
 * developer can click it. Only the local server builds this adapter: on AWS no link reaches a log.
 */
export class OutboxMailer implements Mailer {
  readonly directory: string;

  constructor(
    dataDir: string,
    private readonly sender: () => MailSender,
    private readonly announce: (message: MailMessage, file: string) => void,
  ) {
    this.directory = join(dataDir, 'outbox');
  }

  async send(message: MailMessage): Promise<void> {
    const date = new Date();
    // Sorted by time in a file listing; the random part keeps two mails of one millisecond apart.
    const name = `${date.toISOString().replace(/[:.]/g, '-')}-${message.kind}-${randomBytes(4).toString('hex')}.eml`;
    const file = join(this.directory, name);
    try {
      mkdirSync(this.directory, { recursive: true, mode: 0o700 });
      writeFileSync(
        file,
        emlOf(message, this.sender(), date, `passgate-${randomBytes(12).toString('hex')}`),
        {
          mode: 0o600,
          flag: 'wx',
        },
      );
    } catch (error) {
      throw new DependencyUnavailableError('outbox', 'write', error);
    }
    this.announce(message, file);
  }
}
