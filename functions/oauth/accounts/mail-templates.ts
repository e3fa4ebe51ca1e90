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

/** The mail with the link that verifies a new address (docs/accounts.md). */
export const verificationMail = (to: string, serviceName: string, link: string) =>
  renderMail('verify-email', to, serviceName, {
    subject: `Verify your email address for ${serviceName}`,
    paragraphs: [
      `Someone, probably you, signed up for ${serviceName} with this address.`,
      'Open the link below within 24 hours to confirm it is yours. If it was not you, ignore this mail: no account is confirmed without it.',
    ],
    action: { label: 'Verify my email address', link },
  });

/**
 * What the owner of an address that has an account gets when someone signs up with it again: the
 * sign-up's answer is the same as for a new address (no enumeration), so the owner learns of it here.
 */
export const signupNoticeMail = (to: string, serviceName: string) =>
  renderMail('signup-notice', to, serviceName, {
    subject: `Someone tried to sign up for ${serviceName} with your address`,
    paragraphs: [
      `Someone tried to sign up for ${serviceName} with this address, which already has an account.`,
      'If it was you, sign in with your password instead. If it was not, you need not do anything: your account has not changed.',
    ],
  });
