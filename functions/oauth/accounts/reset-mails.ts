import { defaults } from '../../config/defaults.ts';
import { renderMail } from './mail-templates.ts';

/** The mail with a password reset link: what it is for, how long it works, what to do if unasked. */
export const resetPasswordMail = (to: string, serviceName: string, link: string) =>
  renderMail('reset-password', to, serviceName, {
    subject: `Reset your ${serviceName} password`,
    paragraphs: [
      `Someone, probably you, asked to reset the password of your ${serviceName} account.`,
      `The link works once, for ${defaults.resetTicketTtlSeconds / 60} minutes. If it was not you, ignore this mail: your password stays as it is.`,
    ],
    action: { label: 'Choose a new password', link },
  });

/** The notice after a reset: a user who did not do it learns of it at once. */
export const passwordChangedMail = (to: string, serviceName: string) =>
  renderMail('password-changed', to, serviceName, {
    subject: `Your ${serviceName} password was changed`,
    paragraphs: [
      `The password of your ${serviceName} account was just changed with a reset link, and every device signed in with the old one was signed out.`,
      'If it was not you, reset your password again at once.',
    ],
  });
