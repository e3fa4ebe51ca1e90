import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MailKind } from '../../functions/oauth/ports.ts';

/** One mail of the local outbox, read back from its `.eml` file. */
export interface OutboxMail {
  readonly file: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** The action link of the text part, if it has one. */
  readonly link?: string;
}

function parse(file: string): OutboxMail {
  const eml = readFileSync(file, 'utf8');
  const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(eml)?.[1] ?? '';
  const textPart =
    /Content-Type: text\/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/.exec(
      eml,
    )?.[1];
  const text = Buffer.from((textPart ?? '').replace(/\r\n/g, ''), 'base64').toString('utf8');
  const subject = header('Subject');
  const encoded = /^=\?UTF-8\?B\?(.*)\?=$/.exec(subject)?.[1];
  return {
    file,
    to: header('To'),
    subject: encoded ? Buffer.from(encoded, 'base64').toString('utf8') : subject,
    text,
    link: /https?:\/\/\S+/.exec(text)?.[0],
  };
}

/** The mails of one kind in a data dir's outbox, oldest first (file names start with the time). */
export function outboxMails(dataDir: string, kind: MailKind): OutboxMail[] {
  const directory = join(dataDir, 'outbox');
  if (!existsSync(directory)) return [];
  return readdirSync(directory)
    .filter((name) => name.includes(`-${kind}-`) && name.endsWith('.eml'))
    .sort()
    .map((name) => parse(join(directory, name)));
}
