/**
 * How long one argon2id verification (passgate's parameters: m=19 MiB, t=2, p=1) takes at each
 * Lambda memory size. Lambda gives a function CPU in proportion to its memory (1769 MB = one
 * vCPU), enforced with a CFS quota; this bench reproduces that with a cgroup v1 CPU quota on a
 * child process (root on Linux). Elsewhere it prints the unthrottled time and the estimate
 * time / share. The host is not a Graviton core, so absolute numbers differ on Lambda; the ratios
 * between memory sizes are the point.
 *
 *   npx tsx bench/argon2-lambda-memory.ts [iterations] [--period-ms=N]
 *
 * Lambda does not publish its CFS period. A hash shorter than the quota of one period runs at
 * full speed and back-to-back hashes then stall until the next period, so the result depends on
 * the period: run with 100 (the Linux default) and with a short one such as 20.
 */
import { fork } from 'node:child_process';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { defaults } from '../functions/config/defaults.ts';

const MEMORY_SIZES = [512, 1024, 1536, 1769, 2048, 3008];
const ONE_VCPU_MB = 1769;
const PERIOD_US =
  1000 * Number(process.argv.find((arg) => arg.startsWith('--period-ms='))?.split('=')[1] ?? 100);
const iterations = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? 30);
const cgroupRoot = '/sys/fs/cgroup/cpu';

/** The child: waits until it has been put into its cgroup, then times `iterations` verifications. */
async function child() {
  const { hash, verify } = await import('@node-rs/argon2');
  const stored = await hash('correct horse battery staple', { algorithm: 2, ...defaults.argon2 });
  process.once('message', async () => {
    await verify(stored, 'warm-up');
    const times: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const start = performance.now();
      await verify(stored, 'wrong password');
      times.push(performance.now() - start);
    }
    process.send?.(times);
    process.exit(0);
  });
  process.send?.('ready');
}

function measure(quota: number | undefined): Promise<number[]> {
  const worker = fork(new URL(import.meta.url).pathname, ['--child', String(iterations)], {
    execArgv: ['--import', 'tsx'],
  });
  const group = quota === undefined ? undefined : `${cgroupRoot}/passgate-bench-${process.pid}-${quota}`;
  return new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (message) => {
      if (message === 'ready') {
        if (group) {
          mkdirSync(group);
          writeFileSync(`${group}/cpu.cfs_period_us`, String(PERIOD_US));
          writeFileSync(`${group}/cpu.cfs_quota_us`, String(quota));
          writeFileSync(`${group}/cgroup.procs`, String(worker.pid));
        }
        worker.send('go');
        return;
      }
      worker.once('exit', () => {
        if (group) rmdirSync(group);
        resolve(message as number[]);
      });
    });
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

function canThrottle(): boolean {
  const probe = `${cgroupRoot}/passgate-bench-probe-${process.pid}`;
  try {
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

async function main() {
  const baseline = (await measure(undefined)).sort((a, b) => a - b);
  const median = percentile(baseline, 50);
  process.stdout.write(
    `argon2id m=${defaults.argon2.memoryCost} KiB t=${defaults.argon2.timeCost} p=${defaults.argon2.parallelism}, ` +
      `${iterations} verifications per size, CFS period ${PERIOD_US / 1000} ms\n` +
      `unthrottled: median ${median.toFixed(1)} ms, p90 ${percentile(baseline, 90).toFixed(1)} ms\n\n` +
      '| memory (MB) | vCPU share | median (ms) | p90 (ms) |\n|---|---|---|---|\n',
  );
  const throttle = canThrottle();
  for (const memory of MEMORY_SIZES) {
    const share = memory / ONE_VCPU_MB;
    if (throttle) {
      // p=1 is one thread: a quota above one CPU cannot make it faster.
      const times = (await measure(Math.round(Math.min(share, 1) * PERIOD_US))).sort((a, b) => a - b);
      process.stdout.write(
        `| ${memory} | ${share.toFixed(2)} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 90).toFixed(1)} |\n`,
      );
    } else {
      process.stdout.write(
        `| ${memory} | ${share.toFixed(2)} | ~${(median / Math.min(share, 1)).toFixed(1)} (estimate) | |\n`,
      );
    }
  }
}

if (process.argv.includes('--child')) await child();
else await main();
