import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * What `npm start` leaves for the CLI: a server started with `PASSGATE_DATA_DIR=/x` and a CLI run
 * without it would otherwise use two different stores, and a user created with the CLI would not
 * exist for the server. The record names the server's data dir, config file and issuer.
 */
export interface ServerRecord {
  readonly pid: number;
  readonly issuer: string;
  readonly dataDir: string;
  readonly configPath: string;
}

export function writeServerRecord(path: string, record: ServerRecord): void {
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

/** Removes the record, unless another server has since replaced it with its own. */
export function removeServerRecord(path: string, pid: number): void {
  if (recordAt(path)?.pid === pid) rmSync(path, { force: true });
}

/** The recorded server, if its process is still alive (a killed server leaves its record behind). */
export function runningServer(path: string): ServerRecord | undefined {
  const record = recordAt(path);
  if (!record) return undefined;
  try {
    process.kill(record.pid, 0); // throws when that process is gone
    return record;
  } catch {
    return undefined;
  }
}

function recordAt(path: string): ServerRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(path, 'utf8')) as Partial<ServerRecord>;
    const complete =
      Number.isInteger(record.pid) &&
      typeof record.issuer === 'string' &&
      typeof record.dataDir === 'string' &&
      typeof record.configPath === 'string';
    return complete ? (record as ServerRecord) : undefined;
  } catch {
    return undefined;
  }
}
