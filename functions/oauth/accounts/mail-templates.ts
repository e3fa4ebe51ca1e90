import { defaults } from '../../config/defaults.ts';
import type { TenantConfig } from '../../config/schema.ts';
import type { MailKind, MailMessage } from '../ports.ts';
import { escapeHtml } from './html-escape.ts';

/** The service's name as users know it: the config's `name`. */
export const serviceNameOf = (config: Pick<TenantConfig, 'name'>) => config.name ?? defaults.serviceName;

/** What a mail says: plain paragraphs and at most one action link. */
export interface MailContent {
  readonly subject: string;
  readonly paragraphs: readonly string[];
  readonly action?: { readonly label: string; readonly link: string };
}

/**
 * The one way a mail is rendered: a plain-text part and a minimal HTML part saying the same, every
 * value escaped, no image, no tracking pixel, no link other than the action's, signed with the
 * service's name.
 */
export function renderMail(
  kind: MailKind,
  to: string,
  serviceName: string,
  content: MailContent,
): MailMessage {
  const { action } = content;
  const text = [
    ...content.paragraphs,
    ...(action ? [`${action.label}:\n${action.link}`] : []),
    `— ${serviceName}`,
  ].join('\n\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    ...content.paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    ...(action ? [`<p><a href="${escapeHtml(action.link)}">${escapeHtml(action.label)}</a></p>`] : []),
    `<p>— ${escapeHtml(serviceName)}</p>`,
    '</body></html>',
  ].join('');
  return {
    kind,
    to,
    subject: content.subject,
    text: `${text}\n`,
    html,
    ...(action ? { link: action.link } : {}),
  };
}
