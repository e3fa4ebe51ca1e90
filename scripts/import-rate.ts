/**
 * `npm run bench:import`: how fast `passgate users import` loads users into dynalite.
 * Runs the real CLI, as an operator would, on 20,000 users with plain passwords and on 20,000
 * users with bcrypt (cost 10) hashes, each into a fresh data dir, then verifies a sample of the
 * imported users' passwords. Not part of `npm test`: it takes minutes.
 *
 *   npm run bench:import [-- --users 20000] [-- --only plain|bcrypt] [-- --concurrency 32] [-- --server]
 *
 * Without --server the CLI starts its own embedded store (no server running); with --server a
 * local server holds the store in this process and the CLI writes to it, as while `npm start` runs.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoUserStore } from '../functions/adapters/dynamodb/user-store.ts';
import { Argon2Hasher } from '../functions/adapters/passwords/argon2-hasher.ts';
import type { ImportReport } from '../functions/admin/user-import.ts';
import { startEmbeddedStore } from '../functions/local/embedded-store.ts';
import { repoRoot } from '../functions/local/paths.ts';
import { startLocalServer } from '../functions/local/server.ts';
import { silentLogger } from '../functions/logging.ts';
import { usernameKey } from '../functions/oauth/passwords/normalize.ts';
import { localTableNames } from '../functions/store-schema.ts';
import { bcryptUsersFile, benchPassword, plainUsersFile } from './bench-users.ts';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '20000' },
    only: { type: 'string' },
    concurrency: { type: 'string', default: '32' },
    server: { type: 'boolean', default: false },
  },
});
const count = Number(values.users);
const log = (line: string) => process.stderr.write(`${line}\n`);
/** GNU time reports the CLI's CPU seconds over all its threads; without it, wall time only. */
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Run {
  readonly report: ImportReport;
  readonly wallSeconds: number;
  readonly cpuSeconds?: number;
}

function runImport(dataDir: string, file: string): Promise<Run> {
  const started = performance.now();
  const command = [
    process.execPath,
    join(repoRoot, 'bin', 'passgate.js'),
    ...['users', 'import', '--realm', 'customers', file, '--json', '--concurrency', values.concurrency],
  ];
  const [program, ...args] = (TIME ? [TIME, '-f', 'cpu %U %S', ...command] : command) as [
    string,
    ...string[],
  ];
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      {
        env: {
          ...process.env,
          PASSGATE_DATA_DIR: dataDir,
          PASSGATE_CONFIG: join(dataDir, 'passgate.config.json'),
        },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error && !stdout) return reject(new Error(`import failed: ${stderr}`));
        const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
        resolve({
          report: JSON.parse(stdout),
          wallSeconds: (performance.now() - started) / 1000,
          ...(cpu ? { cpuSeconds: Number(cpu[1]) + Number(cpu[2]) } : {}),
        });
      },
    );
  });
}

/** Reads back a few users and verifies their passwords with the hasher logins use. */
async function checkSample(dataDir: string, kind: string): Promise<string> {
  const store = await startEmbeddedStore(dataDir);
  try {
    const users = new DynamoUserStore(store.db, localTableNames.users);
    const hasher = new Argon2Hasher();
    const sample = [0, Math.floor(count / 3), Math.floor(count / 2), count - 1];
    for (const i of sample) {
      const user = await users.findByUsername('customers', usernameKey(`${kind}-${i}@bench.example.com`));
      if (!user || !(await hasher.verify(user.password_hash, benchPassword(i)))) {
        throw new Error(`user ${kind}-${i} does not verify after the import`);
      }
    }
    return `${sample.length} sampled users verify`;
  } finally {
    await store.close();
  }
}

async function importWithServer(dataDir: string, file: string): Promise<Run> {
  const server = await startLocalServer({
    port: 0,
    dataDir,
    configPath: join(dataDir, 'passgate.config.json'),
    logger: silentLogger,
  });
  try {
    return await runImport(dataDir, file);
  } finally {
    await server.close();
  }
}

async function bench(kind: 'plain' | 'bcrypt'): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), `passgate-bench-${kind}-`));
  try {
    copyFileSync(join(repoRoot, 'passgate.config.json'), join(dataDir, 'passgate.config.json'));
    const file = kind === 'plain' ? plainUsersFile(dataDir, count) : await bcryptUsersFile(count, log);
    log(`importing ${count} ${kind} users${values.server ? ' into a running local server' : ''} …`);
    const run = values.server ? await importWithServer(dataDir, file) : await runImport(dataDir, file);
    const { report, wallSeconds, cpuSeconds } = run;
    if (report.imported !== count) {
      throw new Error(`imported ${report.imported} of ${count}: ${JSON.stringify(report)}`);
    }
    const check = await checkSample(dataDir, kind);
    const rate = Math.round(report.imported / report.seconds);
    const cpu =
      cpuSeconds === undefined ? '' : `, CLI CPU ${((cpuSeconds * 1000) / count).toFixed(1)} ms/user`;
    return (
      `${kind.padEnd(6)} ${count} users: ${rate} users/s, ${report.seconds.toFixed(1)} s importing ` +
      `(${wallSeconds.toFixed(1)} s for the whole command${cpu}); ${check}`
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const kinds = values.only ? [values.only as 'plain' | 'bcrypt'] : (['plain', 'bcrypt'] as const);
const results: string[] = [];
for (const kind of kinds) results.push(await bench(kind));
const load = existsSync('/proc/loadavg') ? readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3) : [];
process.stdout.write(
  `${results.join('\n')}\n${load.length ? `load average after: ${load.join(' ')}\n` : ''}`,
);
