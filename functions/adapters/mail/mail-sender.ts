import type { TenantConfig } from '../../config/schema.ts';
import type { MailSender } from './ses-mailer.ts';

/**
 * The config's sender. Config validation requires `email` wherever a realm sends mail, so its
 * absence here is a bug in the caller, said loudly rather than a mail sent from nowhere.
 */
export function mailSender(config: TenantConfig): MailSender {
  if (!config.email) throw new Error('no `email.from` in the config: no realm may send mail');
  return config.email;
}
