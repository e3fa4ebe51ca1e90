import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runningServer } from './server-record.ts';

/** The repository root: the local defaults (config file, data dir) are relative to it. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LocalPaths {
  readonly configPath: string;
  readonly dataDir: string;
  /** Where `npm start` records its data dir and issuer for the CLI (server-record.ts). */
  readonly serverRecord: string;
}

/** docs/configuration.md: PASSGATE_CONFIG, PASSGATE_DATA_DIR and PASSGATE_SERVER_FILE, defaulting to the repo root. */
export function localPaths(env: NodeJS.ProcessEnv = process.env): LocalPaths {
  return {
    configPath: resolve(env.PASSGATE_CONFIG || resolve(repoRoot, 'passgate.config.json')),
    dataDir: resolve(env.PASSGATE_DATA_DIR || resolve(repoRoot, '.passgate')),
    serverRecord: resolve(env.PASSGATE_SERVER_FILE || resolve(repoRoot, '.passgate-server.json')),
  };
}

/** Where the CLI's local paths come from, said on stderr so that two stores are never mixed up. */
export interface CliPaths extends LocalPaths {
  readonly source: string;
}

/**
 * The CLI's store: `PASSGATE_DATA_DIR` when set; otherwise the data dir (and, unless
 * `PASSGATE_CONFIG` is set, the config) of the local server that runs from this checkout; otherwise
 * the default.
 */
export function cliPaths(env: NodeJS.ProcessEnv = process.env): CliPaths {
  const paths = localPaths(env);
  if (env.PASSGATE_DATA_DIR) return { ...paths, source: 'PASSGATE_DATA_DIR' };
  const server = runningServer(paths.serverRecord);
  if (!server) return { ...paths, source: 'the default; no local server is running' };
  return {
    ...paths,
    dataDir: server.dataDir,
    configPath: env.PASSGATE_CONFIG ? paths.configPath : server.configPath,
    source: `the local server on ${server.issuer}`,
  };
}
