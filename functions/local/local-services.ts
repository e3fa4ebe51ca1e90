import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { dynamoStores } from '../adapters/dynamodb/stores.ts';
import { readOrCreateSecretFile } from '../adapters/files/read-or-create.ts';
import { Argon2Hasher } from '../adapters/passwords/argon2-hasher.ts';
import { LocalSealer } from '../adapters/sealing/local-sealer.ts';
import { LocalSigner } from '../adapters/signing/local-signer.ts';
import type { AdminServices } from '../admin/user-admin.ts';
import { loadConfigFile } from '../config/load.ts';
import type { Logger } from '../logging.ts';
import { type Clock, systemClock } from '../oauth/ports.ts';
import type { Services } from '../oauth/services.ts';
import { localTableNames } from '../store-schema.ts';
import type { LocalStore } from './embedded-store.ts';

/** The local secret of the counters' keyed hash; the CLI reads the same file to unblock users. */
export const localCounterHashKey = (dataDir: string) =>
  readOrCreateSecretFile(join(dataDir, 'counter-hash-key'), () => randomBytes(32));

/** What the operator CLI works with locally: the same stores as the server, no signer. */
export function localAdminServices(options: {
  configPath: string;
  dataDir: string;
  store: LocalStore;
}): AdminServices & Pick<Services, 'refreshTokens' | 'signIns' | 'mfa' | 'dpopProofs'> {
  return {
    config: loadConfigFile(options.configPath),
    ...dynamoStores(options.store.db, localTableNames),
    counterHashKey: localCounterHashKey(options.dataDir),
    hasher: new Argon2Hasher(),
    clock: systemClock,
  };
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
  return {
    ...localAdminServices(options),
    sealer: LocalSealer.fromDataDir(options.dataDir),
    signer: await LocalSigner.fromDataDir(options.dataDir),
    clock: options.clock ?? systemClock,
    logger: options.logger,
    issuer: options.issuer,
  };
}
