import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');

export interface StartedServer {
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr together. */
  output(): string;
  readonly exited: Promise<number | null>;
}

/**
 * `npm start` (tsx bin/local.ts) on `PORT` (default: a free one), as the one Node process that tsx
 * runs it in, without tsx's supervising parent: a signal sent to `child` reaches the server itself.
 */
export function npmStart(env: Record<string, string>): StartedServer {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', NODE_NO_WARNINGS: '1', ...env },
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

export async function waitFor(output: () => string, pattern: RegExp): Promise<RegExpMatchArray> {
  // Generous: a cold `npm start` on a busy CI machine takes seconds (tsx, dynalite, the key).
  for (let i = 0; i < 600; i += 1) {
    const match = output().match(pattern);
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${pattern}; output so far:\n${output()}`);
}
