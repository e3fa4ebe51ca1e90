/**
 * Runs a built Lambda bundle as the Lambda runtime does: a fresh Node process with only the
 * function's folder as its task root, `index.handler` of an ES module, invoked over IPC. Shared by
 * the bundle smoke test (test/integration/lambda-bundles.test.ts) and the cold-start bench.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { cpSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { repoRoot } from '../../functions/local/paths.ts';

/**
 * Loads the bundle and invokes it per IPC message. `ready` carries the milliseconds since the
 * process started at which the import finished; each result the milliseconds at which it completed.
 */
const DRIVER = `
const { handler } = await import(process.env.LAMBDA_TASK_ROOT + '/index.mjs');
process.on('message', async ({ id, event, exit }) => {
  if (exit) process.exit(0);
  process.send({ id, result: await handler(event), at: performance.now() });
});
process.send({ ready: true, at: performance.now() });
`;

/** The host's own argon2 binary stands in for the linux-arm64 one when the host is not linux-arm64. */
export function addHostArgon2(taskRoot: string) {
  if (!existsSync(join(taskRoot, 'node_modules', '@node-rs', 'argon2'))) return;
  const installed = join(repoRoot, 'node_modules', '@node-rs');
  for (const name of readdirSync(installed).filter((entry) => entry.startsWith('argon2-'))) {
    const target = join(taskRoot, 'node_modules', '@node-rs', name);
    if (!existsSync(target)) cpSync(join(installed, name), target, { recursive: true });
  }
}

/** A copy of a function's asset (or build output) as a task root that can run on this host. */
export function prepareTaskRoot(assetDir: string, taskRoot: string): string {
  cpSync(assetDir, taskRoot, { recursive: true });
  addHostArgon2(taskRoot);
  return taskRoot;
}

/** What every function process gets: credentials the doubles accept, and their endpoints. */
export function lambdaEnvironment(endpoints: {
  readonly dynamodb: string;
  readonly kms: string;
  readonly secretsManager: string;
}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'smoke-test',
    AWS_SECRET_ACCESS_KEY: 'smoke-test',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_KMS: endpoints.kms,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsManager,
  };
}

export interface FunctionProcess {
  /** Milliseconds from `fork` until the bundle was imported (the process's own clock). */
  readonly importedAtMs: number;
  invoke(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult & { atMs: number }>;
  /** Everything the function wrote to stdout and stderr so far. */
  output(): string;
  /** Ends the process; it exits by itself (writing a `--cpu-prof` profile) when it still listens. */
  stop(): void;
}

/**
 * Forks the driver in `taskRoot` with exactly `env` (plus LAMBDA_TASK_ROOT) and waits until it is
 * ready. `execArgv` is for Node flags such as `--cpu-prof`.
 */
export async function startFunctionProcess(
  taskRoot: string,
  env: Record<string, string>,
  execArgv: readonly string[] = [],
): Promise<FunctionProcess> {
  const driver = join(taskRoot, '..', 'driver.mjs');
  if (!existsSync(driver)) writeFileSync(driver, DRIVER);
  const child: ChildProcess = fork(driver, [], {
    execArgv: [...execArgv],
    cwd: taskRoot,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...env, LAMBDA_TASK_ROOT: taskRoot },
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const pending = new Map<number, (result: APIGatewayProxyResult & { atMs: number }) => void>();
  const importedAtMs = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the function exited (${code}):\n${output}`)));
    child.on(
      'message',
      (message: { ready?: true; id?: number; result?: APIGatewayProxyResult; at: number }) => {
        if (message.ready) resolve(message.at);
        else if (message.id !== undefined && message.result)
          pending.get(message.id)?.({ ...message.result, atMs: message.at });
      },
    );
  });
  let nextId = 0;
  return {
    importedAtMs,
    invoke(event) {
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ id, event });
      });
    },
    output: () => output,
    stop: () => {
      child.removeAllListeners('exit');
      if (child.connected) child.send({ exit: true });
      else child.kill();
    },
  };
}
