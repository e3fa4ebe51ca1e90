import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MessageRejected,
  SESv2Client,
  SendEmailCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OutboxMailer } from '../../functions/adapters/mail/outbox-mailer.ts';
import { SesMailer } from '../../functions/adapters/mail/ses-mailer.ts';
import { renderMail } from '../../functions/oauth/accounts/mail-templates.ts';
import { DependencyUnavailableError } from '../../functions/oauth/errors.ts';
import type { MailMessage } from '../../functions/oauth/ports.ts';
import { injectFaults } from '../helpers/faults.ts';
import { startSesDouble } from '../helpers/ses.ts';

const LINK = 'https://auth.example.com/verify-email?ticket=AAAA';
const message = renderMail('verify-email', 'zoë@example.com', 'Shop <&> Co', {
  subject: 'Confirm your address for Shop',
  paragraphs: ['Hello <b>Zoë</b>,', 'Please confirm your address.'],
  action: { label: 'Confirm my address', link: LINK },
});
const sender = { from: 'no-reply@example.com', replyTo: 'help@example.com' };

describe('mail templates', () => {
  it('say the same in text and HTML, escape everything in HTML and carry only the action link', () => {
    expect(message.text).toBe(
      `Hello <b>Zoë</b>,\n\nPlease confirm your address.\n\nConfirm my address:\n${LINK}\n\n— Shop <&> Co\n`,
    );
    expect(message.html).toContain('<p>Hello &#60;b&#62;Zoë&#60;/b&#62;,</p>');
    expect(message.html).toContain(`<a href="${LINK}">Confirm my address</a>`);
    expect(message.html).toContain('— Shop &#60;&#38;&#62; Co');
    expect(message.html.match(/<a /g)).toHaveLength(1);
    expect(message.html).not.toMatch(/<img|<script|src=/);
    expect(message.link).toBe(LINK);
  });
});

describe('SES v2 mailer', () => {
  let ses: ReturnType<typeof mockClient>;
  beforeAll(() => {
    ses = mockClient(SESv2Client);
  });
  afterEach(() => ses.reset());
  afterAll(() => ses.restore());

  it('sends one simple message with a text and an HTML part, from the configured sender', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    await new SesMailer(new SESv2Client({ region: 'eu-west-1' }), () => sender).send(message);
    const calls = ses.commandCalls(SendEmailCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      FromEmailAddress: 'no-reply@example.com',
      ReplyToAddresses: ['help@example.com'],
      Destination: { ToAddresses: ['zoë@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 'Confirm your address for Shop', Charset: 'UTF-8' },
          Body: {
            Text: { Data: message.text, Charset: 'UTF-8' },
            Html: { Data: message.html, Charset: 'UTF-8' },
          },
        },
      },
    });
  });

  it('names no reply-to address when the config has none', async () => {
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-2' });
    await new SesMailer(new SESv2Client({ region: 'eu-west-1' }), () => ({ from: sender.from })).send(
      message,
    );
    expect(ses.commandCalls(SendEmailCommand)[0]?.args[0].input.ReplyToAddresses).toBeUndefined();
  });

  it('reports throttling and a refused message as SES being unavailable (503)', async () => {
    const mailer = new SesMailer(new SESv2Client({ region: 'eu-west-1' }), () => sender);
    ses.on(SendEmailCommand).rejects(new TooManyRequestsException({ message: 'slow down', $metadata: {} }));
    await expect(mailer.send(message)).rejects.toBeInstanceOf(DependencyUnavailableError);
    ses.reset();
    ses.on(SendEmailCommand).rejects(new MessageRejected({ message: 'sandbox', $metadata: {} }));
    await expect(mailer.send(message)).rejects.toMatchObject({ dependency: 'ses', operation: 'SendEmail' });
  });
});

describe("SES v2 mailer with the functions' SDK settings", () => {
  it('gives up after one retry when SES fails, as 503, and sends nothing', async () => {
    const double = await startSesDouble();
    const mailer = new SesMailer(double.client, () => sender);
    await mailer.send(message);
    expect(double.sent[0]?.Content.Simple.Body.Text.Data).toBe(message.text);
    const faults = await injectFaults(double.client as never, [
      { operation: 'SendEmail', nth: 1, times: 2, fault: 'internal' },
    ]);
    try {
      await expect(mailer.send(message)).rejects.toBeInstanceOf(DependencyUnavailableError);
      expect(faults.injected).toHaveLength(2); // the SDK's retry, then it gave up
    } finally {
      await faults.restore();
      await double.close();
    }
    expect(double.sent).toHaveLength(1);
  });
});

describe('local outbox mailer', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'passgate-outbox-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('writes one .eml per message that a mail client reads, and announces its link', async () => {
    const announced: [MailMessage, string][] = [];
    const mailer = new OutboxMailer(
      dataDir(),
      () => sender,
      (sent, file) => announced.push([sent, file]),
    );
    await mailer.send(message);
    await mailer.send({ ...message, kind: 'signup-notice' });
    const files = readdirSync(mailer.directory).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d-]+Z-verify-email-[0-9a-f]{8}\.eml$/);
    expect(announced.map(([sent, file]) => [sent.link, file])).toEqual([
      [LINK, join(mailer.directory, files.find((f) => f.includes('verify-email')) as string)],
      [LINK, join(mailer.directory, files.find((f) => f.includes('signup-notice')) as string)],
    ]);
    const file = announced[0]?.[1] as string;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const eml = readFileSync(file, 'utf8');
    const [head = '', ...rest] = eml.split('\r\n\r\n');
    expect(head).toContain('From: no-reply@example.com\r\nTo: zoë@example.com\r\nReply-To: help@example.com');
    expect(head).toContain('Subject: Confirm your address for Shop\r\n');
    expect(head).toMatch(/Content-Type: multipart\/alternative; boundary="(passgate-[0-9a-f]{24})"/);
    const boundary = /boundary="([^"]+)"/.exec(head)?.[1] as string;
    const parts = rest
      .join('\r\n\r\n')
      .split(`--${boundary}`)
      .slice(1, -1)
      .map((part) => part.split('\r\n\r\n'));
    expect(parts.map(([headers]) => /Content-Type: ([^;]+)/.exec(headers ?? '')?.[1])).toEqual([
      'text/plain',
      'text/html',
    ]);
    const decoded = parts.map(([, body]) =>
      Buffer.from((body ?? '').replace(/\s/g, ''), 'base64').toString('utf8'),
    );
    expect(decoded).toEqual([message.text, message.html]);
  });

  it('encodes a subject that is not plain ASCII (RFC 2047)', async () => {
    const mailer = new OutboxMailer(
      dataDir(),
      () => sender,
      () => undefined,
    );
    await mailer.send({ ...message, subject: 'Bestätigen Sie Ihre Adresse' });
    const [file] = readdirSync(mailer.directory);
    const eml = readFileSync(join(mailer.directory, file as string), 'utf8');
    const encoded = Buffer.from('Bestätigen Sie Ihre Adresse').toString('base64');
    expect(eml).toContain(`Subject: =?UTF-8?B?${encoded}?=\r\n`);
  });

  it('reports an outbox it cannot write as the mail service being unavailable', async () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'outbox'), 'a file where the folder should be');
    const mailer = new OutboxMailer(
      dir,
      () => sender,
      () => undefined,
    );
    await expect(mailer.send(message)).rejects.toMatchObject({ dependency: 'outbox' });
  });
});
