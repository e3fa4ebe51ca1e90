/**
 * `npm run bench [-- --quick]`: passgate's performance figures, each measured in the same run as
 * the ceiling it is compared with; prints a table and writes bench/results.json.
 *
 * 1. Password grant efficiency: logins/s through the local server ÷ argon2id verifies/s alone.
 * 2. Handler CPU per request in-process (password grant without argon2; refresh grant).
 * 3. Refresh grant end to end through the local server: p50, p99, throughput.
 * 4. Cold start of the Lambda bundles: sizes, fresh process to first completed token invocation.
 * 5. Enumeration timing: unknown user vs wrong password, medians side by side.
 * 6. Critical path of the built token function: sequential rounds of AWS calls and calls per grant
 *    (critical-path.ts), and what a million logins and refreshes cost.
 *
 * `--quick` (CI) runs every section briefly to prove the bench works; it never fails on a target.
 * `--baseline DIR` (a checkout of an earlier version, with its dependencies installed) adds that
 * version's local server to section 3: both refresh at the same concurrency in alternating rounds,
 * and the ratio is reported. `--local-refresh` runs section 3 alone.
 * The full run prints PASS/MISS per target and exits non-zero on an error, not on a miss.
 * `--critical-path` runs sections 4 and 6 alone. `--write-docs` writes the tables, with the machine, the
 * Node version and the date, into docs/performance.md (write-docs.ts).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaults } from '../functions/config/defaults.ts';
import { GRANT_PASSWORD_REALM } from '../functions/config/grant-types.ts';
import { endpointNeeds } from '../functions/endpoint-needs.ts';
import { repoRoot } from '../functions/local/paths.ts';
import { type ColdStart, coldStartTable, measureColdStart } from './cold-start.ts';
import { type GrantPath, measureCriticalPath } from './critical-path.ts';
import {
  costTable,
  criticalPathTable,
  LOGIN_DYNAMODB_CALLS_TARGET,
  pricesUsed,
  ROUND_TARGETS,
  summaryTable,
} from './critical-path-report.ts';
import { measureHandlerCpu } from './handler-cpu.ts';
import { expectStatus, median, percentile, saturate, tokenClient } from './load.ts';
import {
  BENCH_PASSWORD,
  benchUsername,
  MIGRATED_REALM,
  migratedUsername,
  type ServerProcess,
  startServerProcess,
} from './local-server-process.ts';
import { passwordBlocklistFigures } from './password-blocklist.ts';
import type { SigningMode } from './token-function.ts';
import { performancePage, readmePage, writeBenchBlocks } from './write-docs.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'critical-path': { type: 'boolean', default: false },
    'write-docs': { type: 'boolean', default: false },
    'local-refresh': { type: 'boolean', default: false },
    baseline: { type: 'string' },
  },
});
const quick = values.quick;
const cores = availableParallelism();

/** How long and how often, per mode. */
const plan = quick
  ? {
      rounds: 1,
      roundSeconds: 1,
      users: 200,
      cpuRequests: 200,
      refreshRuns: 50,
      refreshSeconds: 1,
      enumeration: 10,
      coldStarts: 2,
      pathRuns: 1,
      pathWarm: 1,
    }
  : {
      rounds: 3,
      roundSeconds: 4,
      users: 1500,
      cpuRequests: 2000,
      refreshRuns: 1000,
      refreshSeconds: 5,
      enumeration: 100,
      coldStarts: 10,
      pathRuns: 4,
      pathWarm: 4,
    };
/** Logins in flight: two per core keeps both cores busy while some logins wait on the store. */
const loginConcurrency = 2 * cores;
const refreshConcurrency = 4 * cores;

interface Figure {
  readonly section: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly target?: { readonly op: '>=' | '<='; readonly value: number };
  readonly note?: string;
}

const figures: Figure[] = [];
const log = (line: string) => process.stderr.write(`${line}\n`);
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

function add(figure: Figure) {
  figures.push({ ...figure, value: round(figure.value, 3) });
}

const cpuMs = (before: NodeJS.CpuUsage, after: NodeJS.CpuUsage) =>
  (after.user - before.user + after.system - before.system) / 1000;

/** Section 1: logins/s through the server vs argon2id verifies/s alone, in alternating rounds. */
async function passwordGrantEfficiency(server: ServerProcess, nextUser: () => number) {
  const client = tokenClient(server.issuer, loginConcurrency);
  const login = async () => {
    const reply = await client.post({
      grant_type: 'password',
      client_id: 'mobile-app',
      username: benchUsername(nextUser()),
      password: BENCH_PASSWORD,
      scope: 'openid offline_access read:orders',
    });
    expectStatus(reply, 200, 'password grant');
  };
  for (let i = 0; i < loginConcurrency * 2; i++) await login(); // warm-up: JIT, connections
  let verifies = 0;
  let verifySeconds = 0;
  let logins = 0;
  let loginSeconds = 0;
  let verifyCpu = 0;
  let loginCpu = 0;
  let generatorCpu = 0;
  for (let r = 0; r < plan.rounds; r++) {
    let cpu = await server.cpuUsage();
    const alone = await server.verifyRate(loginConcurrency, plan.roundSeconds);
    let after = await server.cpuUsage();
    verifyCpu += cpuMs(cpu, after);
    verifies += alone.count;
    verifySeconds += alone.seconds;
    cpu = after;
    const own = process.cpuUsage();
    const run = await saturate(loginConcurrency, plan.roundSeconds, login);
    generatorCpu += cpuMs(own, process.cpuUsage());
    after = await server.cpuUsage();
    loginCpu += cpuMs(cpu, after);
    logins += run.count;
    loginSeconds += run.seconds;
    log(`  round ${r + 1}: ${alone.count / alone.seconds} verifies/s alone, ${run.rate} logins/s`);
  }
  client.close();
  const verifyRate = verifies / verifySeconds;
  const loginRate = logins / loginSeconds;
  const section = '1 password grant';
  add({ section, name: 'argon2id verifies/s alone (ceiling)', value: verifyRate, unit: '/s' });
  add({ section, name: 'password grants/s through the local server', value: loginRate, unit: '/s' });
  add({
    section,
    name: 'efficiency (grants/s ÷ verifies/s)',
    value: loginRate / verifyRate,
    unit: '',
  });
  add({ section, name: 'server CPU per argon2id verify', value: verifyCpu / verifies, unit: 'ms' });
  add({ section, name: 'server CPU per password grant', value: loginCpu / logins, unit: 'ms' });
  add({ section, name: 'load generator CPU per password grant', value: generatorCpu / logins, unit: 'ms' });
  add({
    section,
    name: 'embedded store: CPU per GetItem (SDK client + dynalite)',
    value: await server.storeReadCpu(quick ? 50 : 500),
    unit: 'ms',
  });
  return { verifyCpuMs: verifyCpu / verifies, generatorCpuMs: generatorCpu / logins };
}

/** Section 1's CPU per argon2id verify and the load generator's per grant, both in ms. */
interface LoginCpu {
  readonly verifyCpuMs: number;
  readonly generatorCpuMs: number;
}

/** Section 2: CPU per request of the token handler in-process. */
async function handlerCpu({ verifyCpuMs, generatorCpuMs }: LoginCpu) {
  const cpu = await measureHandlerCpu(plan.cpuRequests);
  const section = '2 handler CPU';
  add({
    section,
    name: 'password grant without argon2id (openid offline_access)',
    value: cpu.passwordMs,
    unit: 'ms',
  });
  add({
    section,
    name: 'refresh grant (access token)',
    value: cpu.refreshMs,
    unit: 'ms',
    target: { op: '<=', value: 2 },
  });
  add({
    section,
    name: 'refresh grant with openid (access + ID token)',
    value: cpu.refreshOpenidMs,
    unit: 'ms',
  });
  add({ section, name: 'one RS256 signature (reference)', value: cpu.signMs, unit: 'ms' });
  add({
    section,
    name: 'efficiency bound without the embedded store (verify ÷ (verify + handler))',
    value: verifyCpuMs / (verifyCpuMs + cpu.passwordMs),
    unit: '',
  });
  // The load generator shares the cores: with a store that cost nothing, this is the most section 1
  // could show on this machine.
  add({
    section,
    name: 'efficiency bound with a store that costs nothing (verify ÷ (verify + handler + load generator))',
    value: verifyCpuMs / (verifyCpuMs + cpu.passwordMs + generatorCpuMs),
    unit: '',
  });
}

/** Section 4 per signing mode, kept whole for the critical-path block. */
const coldStarts: { readonly signing: SigningMode; readonly cold: ColdStart }[] = [];

/** Section 4: bundle sizes, and fork of a fresh process to the token bundle's first completed call. */
async function coldStart() {
  const section = '4 cold start';
  for (const signing of ['kms', 'kms-wrapped'] as const) {
    const cold = await measureColdStart(plan.coldStarts, signing);
    coldStarts.push({ signing, cold });
    if (signing === 'kms') {
      for (const [endpoint, bytes] of Object.entries(cold.bundleBytes)) {
        add({
          section,
          name: `${endpoint} bundle JavaScript (index.mjs and its chunks)`,
          value: bytes / 1024,
          unit: 'KiB',
          ...(endpoint === 'token' ? { target: { op: '<=' as const, value: 1024 } } : {}),
        });
      }
      add({
        section,
        name: 'token bundle JavaScript a cold start reads (index.mjs and the chunks it imports statically)',
        value: cold.tokenColdStartBytes / 1024,
        unit: 'KiB',
      });
    }
    // Each mode's ratio is to the floor measured beside it: the machine's load moves both alike.
    add({
      section,
      name: `${signing}: floor, a fresh node process to a first completed call of an empty handler`,
      value: cold.emptyHandlerMs,
      unit: 'ms',
    });
    add({
      section,
      name: `${signing}: fresh node process to first completed token call (median of ${plan.coldStarts})`,
      value: cold.totalMs,
      unit: 'ms',
    });
    add({
      section,
      name: `${signing}: cold start ÷ floor (init + first login as a multiple of the empty handler)`,
      value: cold.totalMs / cold.emptyHandlerMs,
      unit: '×',
      target: { op: '<=', value: COLD_START_RATIO_TARGET },
    });
    add({
      section,
      name: `${signing}: of which Node boot + import of the bundle`,
      value: cold.importMs,
      unit: 'ms',
    });
    add({
      section,
      name: `${signing}: of which first invocation (config, clients, password grant)`,
      value: cold.firstCallMs,
      unit: 'ms',
    });
  }
}

/** A token client of one local server, and what section 3 does with it. */
function refresher(server: ServerProcess, nextUser: () => number) {
  const client = tokenClient(server.issuer, refreshConcurrency);
  const startSession = async () => {
    const reply = await client.post({
      grant_type: 'password',
      client_id: 'mobile-app',
      username: benchUsername(nextUser()),
      password: BENCH_PASSWORD,
      scope: 'offline_access read:orders',
    });
    return expectStatus(reply, 200, 'password grant').body.refresh_token as string;
  };
  const refresh = async (token: string) => {
    const reply = await client.post({
      grant_type: 'refresh_token',
      client_id: 'mobile-app',
      refresh_token: token,
    });
    return expectStatus(reply, 200, 'refresh grant');
  };
  let sessions: string[] = [];
  return {
    startSession,
    refresh,
    /** `refreshConcurrency` sessions refreshing for `seconds`, each its own token in turn. */
    async throughput(seconds: number) {
      if (sessions.length === 0) {
        sessions = await Promise.all(Array.from({ length: refreshConcurrency }, startSession));
      }
      return saturate(refreshConcurrency, seconds, async (_i, worker) => {
        const reply = await refresh(sessions[worker] as string);
        sessions[worker] = reply.body.refresh_token as string;
      });
    },
    close: () => client.close(),
  };
}

/** The checkout `--baseline` names: its commit where it is a git checkout, else its directory. */
function baselineLabel(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return basename(dir);
  }
}

/** Section 3's throughput, next to the baseline's: rounds alternate, so load changes hit both alike. */
const comparison: { ours?: number; baseline?: number; label?: string } = {};

/** Section 3: refresh grants through the local server: sequential latency, then throughput. */
async function refreshEndToEnd(server: ServerProcess, nextUser: () => number) {
  const ours = refresher(server, nextUser);
  let token = await ours.startSession();
  const times: number[] = [];
  for (let i = 0; i < plan.refreshRuns + 20; i++) {
    const reply = await ours.refresh(token);
    token = reply.body.refresh_token as string;
    if (i >= 20) times.push(reply.ms);
  }
  const baselineDir = values.baseline === undefined ? undefined : resolve(values.baseline);
  const baseline = baselineDir ? await startServerProcess(refreshConcurrency + 1, 0, baselineDir) : undefined;
  let baseUsers = 0;
  const theirs = baseline && refresher(baseline, () => baseUsers++);
  const total = { count: 0, seconds: 0, cpuMs: 0, baseCount: 0, baseSeconds: 0 };
  try {
    await ours.throughput(1); // warm-up: JIT, connections, sessions
    await theirs?.throughput(1);
    for (let r = 0; r < (theirs ? plan.rounds : 1); r++) {
      const cpuBefore = await server.cpuUsage();
      const run = await ours.throughput(plan.refreshSeconds);
      total.cpuMs += cpuMs(cpuBefore, await server.cpuUsage());
      total.count += run.count;
      total.seconds += run.seconds;
      if (theirs) {
        const base = await theirs.throughput(plan.refreshSeconds);
        total.baseCount += base.count;
        total.baseSeconds += base.seconds;
        log(`  round ${r + 1}: ${run.rate} refreshes/s, baseline ${base.rate}/s`);
      }
    }
  } finally {
    ours.close();
    theirs?.close();
    await baseline?.close();
  }
  const section = '3 refresh end to end';
  add({
    section,
    name: 'refresh grant p50 (sequential)',
    value: median(times),
    unit: 'ms',
    target: { op: '<=', value: 10 },
  });
  add({ section, name: 'refresh grant p99 (sequential)', value: percentile(times, 99), unit: 'ms' });
  comparison.ours = total.count / total.seconds;
  add({
    section,
    name: `refresh grants/s (${refreshConcurrency} sessions in parallel)`,
    value: comparison.ours,
    unit: '/s',
  });
  add({ section, name: 'server CPU per refresh grant', value: total.cpuMs / total.count, unit: 'ms' });
  if (baselineDir) {
    comparison.label = baselineLabel(baselineDir);
    comparison.baseline = total.baseCount / total.baseSeconds;
    add({
      section,
      name: `refresh grants/s (${refreshConcurrency} in parallel), baseline ${comparison.label}, same run`,
      value: comparison.baseline,
      unit: '/s',
    });
    add({
      section,
      name: `refresh grants/s (${refreshConcurrency} in parallel), this version ÷ baseline ${comparison.label}`,
      value: comparison.ours / comparison.baseline,
      unit: '×',
      target: { op: '>=', value: 3 },
    });
  }
}

/** Section 5: unknown user vs wrong password, interleaved, sequential, each username used once. */
async function enumerationTiming(server: ServerProcess, nextUser: () => number) {
  const client = tokenClient(server.issuer, 1);
  const attempt = async (username: string) => {
    const reply = await client.post({
      grant_type: 'password',
      client_id: 'mobile-app',
      username,
      password: 'not the password',
    });
    return expectStatus(reply, 400, 'failed login').ms;
  };
  const unknown: number[] = [];
  const wrong: number[] = [];
  for (let i = 0; i < plan.enumeration + 5; i++) {
    const u = await attempt(`nobody-${i}`);
    const w = await attempt(benchUsername(nextUser()));
    if (i >= 5) {
      unknown.push(u);
      wrong.push(w);
    }
  }
  client.close();
  const section = '5 enumeration timing';
  const unknownMedian = median(unknown);
  const wrongMedian = median(wrong);
  add({ section, name: 'unknown user median', value: unknownMedian, unit: 'ms' });
  add({ section, name: 'wrong password median', value: wrongMedian, unit: 'ms' });
  add({
    section,
    name: 'relative difference of the medians, abs(unknown ÷ wrong − 1)',
    value: Math.abs(unknownMedian / wrongMedian - 1),
    unit: '',
    target: { op: '<=', value: 0.1 },
  });
  await enumerationTimingAfterMigration(server);
}

/**
 * Section 5, in a realm with imported bcrypt hashes: unknown user, wrong password of a user still
 * on bcrypt and of one on argon2id. Each failed login verifies one hash of each kind the realm
 * holds, so the three take the same time.
 */
async function enumerationTimingAfterMigration(server: ServerProcess) {
  const client = tokenClient(server.issuer, 1);
  const attempt = async (username: string) => {
    const reply = await client.post({
      grant_type: GRANT_PASSWORD_REALM,
      realm: MIGRATED_REALM,
      client_id: 'mobile-app',
      username,
      password: 'not the password',
    });
    return expectStatus(reply, 400, 'failed login').ms;
  };
  const times = { unknown: [] as number[], bcrypt: [] as number[], argon2id: [] as number[] };
  for (let i = 0; i < plan.enumeration + 5; i++) {
    const u = await attempt(`nobody-${i}@example.com`);
    const b = await attempt(migratedUsername('bcrypt', i));
    const a = await attempt(migratedUsername('argon2id', i));
    if (i >= 5) {
      times.unknown.push(u);
      times.bcrypt.push(b);
      times.argon2id.push(a);
    }
  }
  client.close();
  const section = '5 enumeration timing';
  const medians = Object.values(times).map(median);
  add({
    section,
    name: 'realm with bcrypt imports: unknown user median',
    value: medians[0] as number,
    unit: 'ms',
  });
  add({
    section,
    name: 'realm with bcrypt imports: wrong password, user on bcrypt (cost 10)',
    value: medians[1] as number,
    unit: 'ms',
  });
  add({
    section,
    name: 'realm with bcrypt imports: wrong password, user on argon2id',
    value: medians[2] as number,
    unit: 'ms',
  });
  add({
    section,
    name: 'realm with bcrypt imports: spread of the three medians, slowest ÷ fastest − 1',
    value: Math.max(...medians) / Math.min(...medians) - 1,
    unit: '',
    target: { op: '<=', value: 0.1 },
  });
}

/** Section 6, kept whole for its own tables. */
const criticalPaths: GrantPath[] = [];

/** Section 6: sequential rounds and calls per grant of the built token function, delays injected. */
async function criticalPath() {
  for (const signing of ['kms', 'kms-wrapped'] as const) {
    criticalPaths.push(
      ...(await measureCriticalPath({
        runs: plan.pathRuns,
        warm: plan.pathWarm,
        delayMs: PATH_DELAY_MS,
        signing,
      })),
    );
  }
  const section = '6 critical path';
  for (const path of criticalPaths) {
    const target = ROUND_TARGETS[path.grant];
    add({
      section,
      name: `${path.grant} (${path.signing}): sequential rounds of AWS calls`,
      value: path.rounds,
      unit: '',
      ...(target === undefined ? {} : { target: { op: '<=' as const, value: target } }),
    });
  }
  for (const login of criticalPaths.filter((path) => path.grant === 'login')) {
    add({
      section,
      name: `login (${login.signing}): DynamoDB calls`,
      value: login.dynamodbCalls,
      unit: '',
      target: { op: '<=', value: LOGIN_DYNAMODB_CALLS_TARGET },
    });
  }
}

/** The delay the critical-path section adds to every AWS call. */
const PATH_DELAY_MS = 10;
/** Init + first login at most this multiple of the empty-handler floor measured in the same run. */
const COLD_START_RATIO_TARGET = 2.5;

const passes = (figure: Figure) =>
  figure.target === undefined
    ? undefined
    : figure.target.op === '>='
      ? figure.value >= figure.target.value
      : figure.value <= figure.target.value;

function table(): string {
  const rows = figures.map((figure) => {
    const pass = passes(figure);
    return [
      figure.section,
      figure.name,
      `${figure.value}${figure.unit && figure.unit !== '/s' ? ` ${figure.unit}` : figure.unit}`,
      figure.target
        ? `${figure.target.op} ${figure.target.value}${figure.unit === '/s' ? '/s' : ` ${figure.unit}`}`.trim()
        : '',
      pass === undefined ? '' : quick ? (pass ? 'pass' : 'miss (quick)') : pass ? 'PASS' : 'MISS',
    ];
  });
  const header = ['section', 'figure', 'value', 'target', 'result'];
  return [header, header.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
}

async function main() {
  const loadBefore = loadavg();
  log(
    `passgate bench (${quick ? 'quick' : 'full'}): ${cores} cores, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
  );
  /** A section that fails is reported and the others still run; the bench then exits non-zero. */
  const failures: string[] = [];
  const section = async (title: string, run: () => Promise<unknown>) => {
    log(`${title} …`);
    try {
      await run();
    } catch (error) {
      failures.push(`${title}: ${(error as Error).stack ?? error}`);
      log(`${title} FAILED: ${(error as Error).message}`);
    }
  };
  if (values['local-refresh']) await localRefreshOnly(section);
  else {
    if (values['critical-path']) await section('4. cold start of the Lambda bundles', coldStart);
    else await otherSections(section);
    await section('6. critical path of the token function', criticalPath);
  }

  const output = table();
  process.stdout.write(`${output}\n`);
  if (criticalPaths.length > 0) {
    process.stdout.write(`\n${criticalPathTable(criticalPaths)}\n\n${costTable(criticalPaths)}\n`);
  }
  const machine = {
    nproc: cores,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadBefore,
    loadAfter: loadavg(),
  };
  const at = new Date().toISOString();
  writeFileSync(
    join(repoRoot, 'bench', 'results.json'),
    `${JSON.stringify(
      {
        mode: quick ? 'quick' : 'full',
        at,
        machine,
        argon2: defaults.argon2,
        loginConcurrency,
        refreshConcurrency,
        figures: figures.map((figure) => ({ ...figure, pass: passes(figure) })),
        criticalPaths,
        failures,
      },
      null,
      2,
    )}\n`,
  );
  log(
    `machine: ${machine.cpu}, Node ${machine.node}, load after ${machine.loadAfter.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const broken = figures.filter((figure) => !Number.isFinite(figure.value));
  if (broken.length > 0) failures.push(`no number for: ${broken.map((f) => f.name).join(', ')}`);
  if (failures.length > 0) throw new Error(`the bench failed:\n${failures.join('\n')}`);
  if (values['write-docs']) {
    const run = `Measured ${at.slice(0, 10)} on ${cores} × ${machine.cpu}, Node ${machine.node} (${
      quick ? 'quick' : 'full'
    } run; load average ${loadBefore[0]?.toFixed(2)} before, ${machine.loadAfter[0]?.toFixed(2)} after).`;
    const partial = values['critical-path'] || values['local-refresh'];
    writeBenchBlocks({
      ...(criticalPaths.length > 0 ? { 'bench:critical-path': criticalPathBlock(run) } : {}),
      ...(comparison.baseline === undefined ? {} : { 'bench:local-refresh': localRefreshBlock(run) }),
      ...(partial ? {} : { bench: `${run}\n\n${table()}` }),
    });
    log(`wrote ${performancePage}`);
    if (criticalPaths.length > 0 && coldStarts.length > 0) {
      writeBenchBlocks({ 'bench:summary': summaryBlock(run) }, readmePage);
      log(`wrote ${readmePage}`);
    }
  }
}

/** The README's figures: the critical path's summary and the cold start (the rest is in docs/performance.md). */
function summaryBlock(run: string): string {
  const ratios = coldStarts.map(({ signing, cold }) => ({
    signing,
    ratio: cold.totalMs / cold.emptyHandlerMs,
  }));
  return [run, summaryTable(criticalPaths, ratios, COLD_START_RATIO_TARGET)].join('\n\n');
}

/** The generated comparison of the local server's refresh throughput with a baseline version. */
function localRefreshBlock(run: string): string {
  const { ours = Number.NaN, baseline = Number.NaN, label } = comparison;
  const ratio = ours / baseline;
  const table = [
    '| version | refresh grants/s | ratio | target |',
    '| --- | --- | --- | --- |',
    `| ${label} | ${round(baseline, 1)}/s | 1 | |`,
    `| this version | ${round(ours, 1)}/s | ${round(ratio, 2)} | ≥ 3 × ${label}: ${ratio >= 3 ? 'met' : 'missed'} |`,
  ].join('\n');
  return `${run}\n\nThe refresh grant through \`npm start\` with ${refreshConcurrency} sessions refreshing in parallel: this version and version ${label}, started side by side on the same machine and measured in ${plan.rounds} alternating rounds of ${plan.refreshSeconds} s each.\n\n${table}`;
}

/** The generated critical-path part of docs/performance.md. */
function criticalPathBlock(run: string): string {
  return [
    run,
    `A proxy adds ${PATH_DELAY_MS} ms to every call and counts them. *Sequential rounds* is the longest chain of calls each started after the previous one was answered; the *timed rounds* are (p50 with the delay − p50 without) ÷ ${PATH_DELAY_MS} ms, which a busy machine inflates.`,
    criticalPathTable(criticalPaths),
    `The cold start in the same run: a fresh \`node\` process to the first completed login (Node boot, importing the bundle, the composition root and one password grant, no added delay), as a multiple of the same measure for an empty handler (median of ${plan.coldStarts} each; target ≤ ${COLD_START_RATIO_TARGET}×).`,
    coldStartTable(coldStarts),
    `Cost per million grants, from the calls counted above, with the function billed for the p50 duration at ${PATH_DELAY_MS} ms per call at ${endpointNeeds.token.memoryMiB} MB. Prices (us-east-1 list prices; check your Region): ${pricesUsed}. A \`BatchGetItem\` is billed a read unit per key and each write of a \`TransactWriteItems\` two write units (DynamoDB bills transactional writes double): a login's transaction (four writes when it issues a refresh token) costs 8 write units, where four single writes would cost 4 and need more round trips. Writes that also change an index cost one more write unit per index, not counted here; API Gateway, WAF and logs are per request and the same in both modes.`,
    costTable(criticalPaths),
  ].join('\n\n');
}

/** `--local-refresh`: section 3 alone, with `--baseline` beside it. */
async function localRefreshOnly(section: (title: string, run: () => Promise<unknown>) => Promise<void>) {
  const server = await startServerProcess(refreshConcurrency + 1, 0);
  let used = 0;
  try {
    await section('3. refresh grant end to end', () => refreshEndToEnd(server, () => used++));
  } finally {
    await server.close();
  }
}

/** Sections 1 to 5: through the local server, in-process, and the cold start. */
async function otherSections(section: (title: string, run: () => Promise<unknown>) => Promise<void>) {
  const server = await startServerProcess(plan.users, plan.enumeration + 5);
  let used = 0;
  let loginCpu: LoginCpu = { verifyCpuMs: Number.NaN, generatorCpuMs: Number.NaN };
  const nextUser = () => {
    if (used >= plan.users) throw new Error(`the bench ran out of its ${plan.users} users`);
    return used++;
  };
  try {
    await section('1. password grant efficiency', async () => {
      loginCpu = await passwordGrantEfficiency(server, nextUser);
    });
    await section('5. enumeration timing', () => enumerationTiming(server, nextUser));
    await section('3. refresh grant end to end', () => refreshEndToEnd(server, nextUser));
  } finally {
    await server.close();
  }
  await section('2. handler CPU in-process', () => handlerCpu(loginCpu));
  await section('4. cold start of the Lambda bundles', coldStart);
  await section('7. password blocklist', async () => {
    const list = await passwordBlocklistFigures(quick ? 10_000 : 200_000);
    const note = `${list.entries} passwords, ${list.bytes} bytes (${list.gzipBytes} gzipped)`;
    add({ section: '7', name: 'blocklist load and first lookup', value: list.loadMs, unit: 'ms', note });
    add({ section: '7', name: 'blocklist lookup', value: list.lookupUs, unit: 'µs' });
  });
}

await main();
