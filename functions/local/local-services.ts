import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { dynamoStores } from '../adapters/dynamodb/stores.ts';
import { readOrCreateSecretFile } from '../adapters/files/read-or-create.ts';
import { mailSender } from '../adapters/mail/mail-sender.ts';
import { OutboxMailer } from '../adapters/mail/outbox-mailer.ts';
import { Argon2Hasher } from '../adapters/passwords/argon2-hasher.ts';
import { LocalSealer } from '../adapters/sealing/local-sealer.ts';
import { LocalSigner } from '../adapters/signing/local-signer.ts';
import type { AdminServices } from '../admin/user-admin.ts';
import { loadConfigFile } from '../config/load.ts';
import type { Logger } from '../logging.ts';
import { type Clock, type MailMessage, systemClock } from '../oauth/ports.ts';
import type { Services } from '../oauth/services.ts';
import { localTableNames } from '../store-schema.ts';
import type { LocalStore } from './embedded-store.ts';

/** The local secret of the counters' keyed hash; the CLI reads the same file to unblock users. */
export const localCounterHashKey = (dataDir: string) =>
  readOrCreateSecretFile(join(dataDir, 'counter-hash-key'), () => randomBytes(32));

/** Says where a local mail went and its link: the point of the outbox (local mode only). */
export type OutboxAnnouncer = (message: MailMessage, file: string) => void;

/** The CLI's announcer: one line on stderr, beside the command's own output. */
const toStderr: OutboxAnnouncer = (message, file) =>
  process.stderr.write(
    `mail to ${message.to} in the outbox: ${file}${message.link ? `\n  link: ${message.link}` : ''}\n`,
  );

export type LocalAdminServices = AdminServices &
  Pick<Services, 'refreshTokens' | 'mfa' | 'dpopProofs' | 'tickets' | 'limiter' | 'mailer'>;

/** What the operator CLI works with locally: the same stores as the server, no signer. */
export function localAdminServices(options: {
  configPath: string;
  dataDir: string;
  store: LocalStore;
  announce?: OutboxAnnouncer;
}): LocalAdminServices {
  const services: LocalAdminServices = {
    config: loadConfigFile(options.configPath),
    ...dynamoStores(options.store.db, localTableNames),
    counterHashKey: localCounterHashKey(options.dataDir),
    hasher: new Argon2Hasher(),
    // The sender is read at each mail, from whatever config is serving then (the server reloads it).
    mailer: new OutboxMailer(
      options.dataDir,
      () => mailSender(services.config),
      options.announce ?? toStderr,
    ),
    clock: systemClock,
  };
  return services;
}

/** The local composition root: the same services as in Lambda, with dynalite and a local key. */
export async function localServices(options: {
  configPath: string;
  dataDir: string;
  store: LocalStore;
  logger: Logger;
  issuer: string;
  /** Tests fix the clock to reach expiry without waiting; the server itself uses the system clock. */
  clock?: Clock;
}): Promise<Services> {
  // The server's console shows each mail's link, so a developer can open it (local mode only).
  const announce: OutboxAnnouncer = (message, file) =>
    options.logger.log('info', 'mail written to the local outbox', {
      kind: message.kind,
      to: message.to,
      file,
      link: message.link,
    });
  // One object, not a copy: the outbox reads the sender from it, whose config the server reloads.
  return Object.assign(localAdminServices({ ...options, announce }), {
    sealer: LocalSealer.fromDataDir(options.dataDir),
    signer: await LocalSigner.fromDataDir(options.dataDir),
    clock: options.clock ?? systemClock,
    logger: options.logger,
    issuer: options.issuer,
  });
}
