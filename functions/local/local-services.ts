import { DynamoUserStore } from '../adapters/dynamodb/user-store.ts';
import { Argon2Hasher } from '../adapters/passwords/argon2-hasher.ts';
import { LocalSigner } from '../adapters/signing/local-signer.ts';
import { loadConfigFile } from '../config/load.ts';
import type { Logger } from '../logging.ts';
import { systemClock } from '../oauth/ports.ts';
import type { Services } from '../oauth/services.ts';
import { localTableNames } from '../store-schema.ts';
import type { LocalStore } from './embedded-store.ts';

/** The local composition root: the same services as in Lambda, with dynalite and a local key. */
export async function localServices(options: {
  configPath: string;
  dataDir: string;
  store: LocalStore;
  logger: Logger;
  issuer: string;
}): Promise<Services> {
  return {
    config: loadConfigFile(options.configPath),
    users: new DynamoUserStore(options.store.db, localTableNames.users),
    hasher: new Argon2Hasher(),
    signer: await LocalSigner.fromDataDir(options.dataDir),
    clock: systemClock,
    logger: options.logger,
    issuer: options.issuer,
  };
}
