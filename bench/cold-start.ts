/**
 * Cold start of the Lambda bundles: the JavaScript size of each one, and the time from a fresh
 * `node` process to the first completed invocation of the token bundle (Node boot, import, config,
 * clients, one password grant), with DynamoDB served by dynalite and KMS and Secrets Manager by
 * doubles on loopback, as in the bundle smoke test (test/helpers/lambda-task.ts runs both).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFunctionProcess } from '../test/helpers/lambda-task.ts';
import { median } from './load.ts';
import { BENCH_PASSWORD } from './local-server-process.ts';
import { BENCH_USER, prepareTokenFunction, type SigningMode, tokenEvent } from './token-function.ts';

export interface ColdStart {
  /** Bytes of each bundle's JavaScript: index.mjs and its chunks. */
  readonly bundleBytes: Readonly<Record<string, number>>;
  /** Bytes of the token bundle's JavaScript that a cold start reads: index.mjs and its static imports. */
  readonly tokenColdStartBytes: number;
  /** Medians over the runs, in ms: fork to first completed invocation, and its two parts. */
  readonly totalMs: number;
  readonly importMs: number;
  readonly firstCallMs: number;
  /** Median of the same measure for a bundle whose handler does nothing: what no bundle can save. */
  readonly emptyHandlerMs: number;
}

export async function measureColdStart(runs: number, signing: SigningMode): Promise<ColdStart> {
  const fn = await prepareTokenFunction(signing);
  try {
    const bundleBytes = Object.fromEntries(fn.bundles.map((report) => [report.endpoint, report.codeBytes]));
    const tokenColdStartBytes = fn.bundles.find((report) => report.endpoint === 'token')?.coldStartBytes ?? 0;
    const { taskRoot, env, workDir } = fn;
    const event = tokenEvent({
      grant_type: 'password',
      client_id: 'mobile-app',
      username: BENCH_USER,
      password: BENCH_PASSWORD,
      scope: 'openid offline_access read:orders',
    });

    // BENCH_CPU_PROF=<dir>: a V8 CPU profile of every cold start, to see where its time goes.
    const profile = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
      : [];
    const emptyRoot = join(workDir, 'empty', 'task');
    mkdirSync(emptyRoot, { recursive: true });
    writeFileSync(
      join(emptyRoot, 'index.mjs'),
      'export const handler = async () => ({ statusCode: 200, body: "" });\n',
    );
    const totals: number[] = [];
    const imports: number[] = [];
    const firstCalls: number[] = [];
    const empties: number[] = [];
    // Token function and empty handler in turn, so that a machine whose load drifts during the
    // bench moves the measure and its floor alike.
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      const running = await startFunctionProcess(taskRoot, env, profile);
      try {
        const result = await running.invoke(event);
        totals.push(performance.now() - started);
        if (result.statusCode !== 200) {
          throw new Error(`token bundle answered ${result.statusCode} ${result.body}\n${running.output()}`);
        }
        imports.push(running.importedAtMs);
        firstCalls.push(result.atMs - running.importedAtMs);
      } finally {
        running.stop();
      }
      const emptyStarted = performance.now();
      const empty = await startFunctionProcess(emptyRoot, env);
      try {
        await empty.invoke(event);
        empties.push(performance.now() - emptyStarted);
      } finally {
        empty.stop();
      }
    }
    return {
      emptyHandlerMs: median(empties),
      bundleBytes,
      tokenColdStartBytes,
      totalMs: median(totals),
      importMs: median(imports),
      firstCallMs: median(firstCalls),
    };
  } finally {
    await fn.close();
  }
}

/** The cold start per signing mode, as a Markdown table: the floor, the token function, their ratio. */
export function coldStartTable(runs: readonly { signing: SigningMode; cold: ColdStart }[]): string {
  const row = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [
    row([
      'signing',
      'empty handler (floor)',
      'init + first login',
      'ratio',
      'of which import',
      'of which first login',
    ]),
    row(['---', '---', '---', '---', '---', '---']),
    ...runs.map(({ signing, cold }) =>
      row([
        signing,
        `${cold.emptyHandlerMs.toFixed(1)} ms`,
        `${cold.totalMs.toFixed(1)} ms`,
        `${(cold.totalMs / cold.emptyHandlerMs).toFixed(2)}×`,
        `${cold.importMs.toFixed(1)} ms`,
        `${cold.firstCallMs.toFixed(1)} ms`,
      ]),
    ),
  ].join('\n');
}
