import { dynamoStores } from '../adapters/dynamodb/stores.ts';
import { Argon2Hasher } from '../adapters/passwords/argon2-hasher.ts';
import { LocalSigner } from '../adapters/signing/local-signer.ts';
import { loadConfigFile } from '../config/load.ts';
import type { Logger } from '../logging.ts';
import { type Clock, systemClock } from '../oauth/ports.ts';
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
  /** Tests fix the clock to reach expiry without waiting; the server itself uses the system clock. */
  clock?: Clock;
}): Promise<Services> {
  return {
    config: loadConfigFile(options.configPath),
    ...dynamoStores(options.store.db, localTableNames),
    hasher: new Argon2Hasher(),
    signer: await LocalSigner.fromDataDir(options.dataDir),
    clock: options.clock ?? systemClock,
    logger: options.logger,
    issuer: options.issuer,
  };
}
