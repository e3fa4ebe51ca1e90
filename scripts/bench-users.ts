/**
 * Bench input files for `npm run bench:import`: users with plain passwords, and users with
 * distinct bcrypt (cost 10) hashes. bcrypt is slow on purpose, so those hashes are made once,
 * on every core, and cached in the temp dir for the next run.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export const benchPassword = (i: number) => `bench-password-${i}`;
const email = (kind: string, i: number) => `${kind}-${i}@bench.example.com`;

export function plainUsersFile(dir: string, count: number): string {
  const path = join(dir, `plain-users-${count}.jsonl`);
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ email: email('plain', i), email_verified: true, password: benchPassword(i) }),
  );
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** One worker's share of bcrypt hashes; plain JS run with eval, so it needs no TypeScript loader. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcrypt);
const out = [];
for (let i = workerData.from; i < workerData.to; i++) {
  out.push(bcrypt.hashSync('bench-password-' + i, 10));
  if (out.length % 250 === 0) parentPort.postMessage({ progress: 250 });
}
parentPort.postMessage({ hashes: out });
`;

export async function bcryptUsersFile(count: number, log: (line: string) => void): Promise<string> {
  const dir = join(tmpdir(), 'passgate-bench-cache');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `bcrypt10-users-${count}.jsonl`);
  if (existsSync(path)) return path;
  // A larger cached file serves a smaller run: its first `count` users.
  const larger = readdirSync(dir)
    .map((name) => Number(/^bcrypt10-users-(\d+)\.jsonl$/.exec(name)?.[1]))
    .filter((n) => n > count)
    .sort((a, b) => a - b)[0];
  if (larger !== undefined) {
    const lines = readFileSync(join(dir, `bcrypt10-users-${larger}.jsonl`), 'utf8').split('\n');
    writeFileSync(path, `${lines.slice(0, count).join('\n')}\n`);
    return path;
  }
  const workers = availableParallelism();
  const share = Math.ceil(count / workers);
  const started = Date.now();
  let done = 0;
  log(`generating ${count} bcrypt (cost 10) hashes on ${workers} worker thread(s), cached in ${path}`);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const from = w * share;
      const to = Math.min(count, from + share);
      return new Promise<string[]>((resolve, reject) => {
        const worker = new Worker(WORKER, {
          eval: true,
          workerData: { from, to, bcrypt: createRequire(import.meta.url).resolve('bcryptjs') },
        });
        worker.on('message', (message: { progress?: number; hashes?: string[] }) => {
          if (message.hashes) return resolve(message.hashes);
          done += message.progress ?? 0;
          if (done % 2000 === 0)
            log(`  ${done}/${count} hashes, ${Math.round((Date.now() - started) / 1000)} s`);
        });
        worker.once('error', reject);
      });
    }),
  );
  const hashes = parts.flat();
  const lines = hashes.map((hash, i) =>
    JSON.stringify({ email: email('bcrypt', i), email_verified: true, password_hash: hash }),
  );
  writeFileSync(`${path}.partial`, `${lines.join('\n')}\n`);
  renameSync(`${path}.partial`, path);
  log(`generated in ${Math.round((Date.now() - started) / 1000)} s`);
  return path;
}

if (process.argv.includes('--generate')) {
  await bcryptUsersFile(Number(process.env.BENCH_USERS ?? 20_000), (line) => console.log(line));
}
