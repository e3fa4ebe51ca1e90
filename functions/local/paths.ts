import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the local defaults (config file, data dir) are relative to it. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LocalPaths {
  readonly configPath: string;
  readonly dataDir: string;
}

/** docs/configuration.md: PASSGATE_CONFIG and PASSGATE_DATA_DIR, defaulting to the repo root. */
export function localPaths(env: NodeJS.ProcessEnv = process.env): LocalPaths {
  return {
    configPath: resolve(env.PASSGATE_CONFIG || resolve(repoRoot, 'passgate.config.json')),
    dataDir: resolve(env.PASSGATE_DATA_DIR || resolve(repoRoot, '.passgate')),
  };
}
