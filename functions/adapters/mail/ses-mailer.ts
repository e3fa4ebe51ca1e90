import { SESv2Client, type SESv2ClientConfig, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { DependencyUnavailableError } from '../../oauth/errors.ts';
import type { Mailer, MailMessage } from '../../oauth/ports.ts';

/** Who the mails come from: the tenant config's `email` (config/schema.ts). */
export interface MailSender {
  readonly from: string;
  readonly replyTo?: string;
}

/**
 * Mail through Amazon SES v2 (`SendEmail`, a simple message with a text and an HTML part). The
 * message and its link are never logged: on AWS a ticket exists only in the mail itself. Every
 * failure, throttling and a refused message alike, means the mail did not leave: the caller
 * answers 503 and the user asks again (docs/accounts.md).
 */
export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESv2Client,
    private readonly sender: () => MailSender,
  ) {}

  async send(message: MailMessage): Promise<void> {
    const { from, replyTo } = this.sender();
    const content = (data: string) => ({ Data: data, Charset: 'UTF-8' });
    try {
      await this.client.send(
        new SendEmailCommand({
          FromEmailAddress: from,
          ...(replyTo ? { ReplyToAddresses: [replyTo] } : {}),
          Destination: { ToAddresses: [message.to] },
          Content: {
            Simple: {
              Subject: content(message.subject),
              Body: { Text: content(message.text), Html: content(message.html) },
            },
          },
        }),
      );
    } catch (error) {
      throw new DependencyUnavailableError('ses', 'SendEmail', error);
    }
  }
}

/** A mailer with its own SES client: one import gives both, so a bundle keeps only the SES code used. */
export const sesMailer = (clientConfig: SESv2ClientConfig, sender: () => MailSender) =>
  new SesMailer(new SESv2Client(clientConfig), sender);
