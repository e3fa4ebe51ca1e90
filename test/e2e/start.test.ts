import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { testConfig } from '../helpers/config.ts';
import { json } from '../helpers/http.ts';

const root = join(import.meta.dirname, '../..');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'passgate-start-'));
  dirs.push(dir);
  return dir;
}

/** `npm start` as a user runs it (tsx bin/local.ts), on a free port. */
function start(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(join(root, 'node_modules/.bin/tsx'), ['bin/local.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', NODE_NO_WARNINGS: '1', ...env },
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(output: () => string, pattern: RegExp): Promise<RegExpMatchArray> {
  for (let i = 0; i < 200; i += 1) {
    const match = output().match(pattern);
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${pattern}; output so far:\n${output()}`);
}

describe('npm start', () => {
  it('prints the issuer, the JWKS URL and a curl example that works after creating the user', async () => {
    const dataDir = tempDir();
    const configPath = join(dataDir, 'config.json');
    writeFileSync(configPath, JSON.stringify(testConfig()));
    const env = { PASSGATE_DATA_DIR: dataDir, PASSGATE_CONFIG: configPath };
    const server = start(env);
    try {
      const [, issuer] = await waitFor(server.output, /issuer: +(http:\/\/localhost:\d+\/)/);
      expect(server.output()).toContain(`JWKS:     ${issuer}.well-known/jwks.json`);
      // The printed example, step by step: create alice from stdin, then the curl's form fields.
      const created = await runCli(
        ['users', 'create', '--realm', 'customers', '--username', 'alice', '--password-stdin'],
        { env, stdin: 'correct horse battery staple' },
      );
      expect(created.code).toBe(0);
      const curl = await waitFor(server.output, /curl -s (\S+) (.+?) \\\n\s+(.+)\n/);
      const fields = `${curl[2]} ${curl[3]}`.matchAll(/-d (?:"([^"]*)"|(\S+))/g);
      const form = new URLSearchParams(
        [...fields].map((m) => (m[1] ?? m[2] ?? '').split('=', 2) as [string, string]),
      );
      const response = await fetch(curl[1] as string, { method: 'POST', body: form });
      expect(response.status).toBe(200);
      expect((await json(response)).scope).toBe('openid offline_access read:orders');
      // The local signing key is readable by its owner only.
      expect(statSync(join(dataDir, 'signing-key.json')).mode & 0o777).toBe(0o600);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
  });

  it('refuses to start on a bad config, one line per problem, no stack trace', async () => {
    const dataDir = tempDir();
    const configPath = join(dataDir, 'config.json');
    const config = testConfig();
    writeFileSync(
      configPath,
      JSON.stringify({
        ...config,
        clients: [{ ...config.clients?.[0], realms: ['staff'] }],
        defaultAudience: 'x',
      }),
    );
    const server = start({ PASSGATE_DATA_DIR: dataDir, PASSGATE_CONFIG: configPath });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('clients[0].realms[0]: unknown realm "staff"');
    expect(server.output()).toContain('defaultAudience: "x" is not the identifier of an API in apis');
    expect(server.output()).not.toMatch(/\n\s+at /);
  });
});
