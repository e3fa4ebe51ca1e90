import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MailKind } from '../../functions/oauth/ports.ts';

/** One mail of the local outbox as its reader sees it: headers and the decoded text part. */
export interface OutboxMail {
  readonly file: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** The first https or http link of the text: the mail's action. */
  readonly link?: string;
}

/** Every `.eml` of a data dir's outbox (of one kind, if named), oldest first (their names start with the time). */
export function outboxMails(dataDir: string, kind?: MailKind): OutboxMail[] {
  const directory = join(dataDir, 'outbox');
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .filter((name) => name.endsWith('.eml') && (kind === undefined || name.includes(`-${kind}-`)))
    .sort()
    .map((name) => {
      const eml = readFileSync(join(directory, name), 'utf8');
      const [head = '', ...rest] = eml.split('\r\n\r\n');
      const headerValue = (field: string) =>
        new RegExp(`^${field}: (.*)$`, 'm').exec(head)?.[1]?.trim() ?? '';
      const boundary = /boundary="([^"]+)"/.exec(head)?.[1] as string;
      const textPart = rest.join('\r\n\r\n').split(`--${boundary}`)[1] ?? '';
      const text = Buffer.from((textPart.split('\r\n\r\n')[1] ?? '').replace(/\s/g, ''), 'base64').toString(
        'utf8',
      );
      return {
        file: name,
        to: headerValue('To'),
        subject: headerValue('Subject'),
        text,
        link: /https?:\/\/\S+/.exec(text)?.[0],
      };
    });
}
