import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { testConfig } from '../helpers/config.ts';
import { json } from '../helpers/http.ts';
import { npmStart, waitFor } from '../helpers/npm-start.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'passgate-start-'));
  dirs.push(dir);
  return dir;
}

describe('npm start', () => {
  it('prints the issuer, the JWKS URL and a curl example that works after creating the user', async () => {
    const dataDir = tempDir();
    const configPath = join(dataDir, 'config.json');
    writeFileSync(configPath, JSON.stringify(testConfig()));
    const env = { PASSGATE_DATA_DIR: dataDir, PASSGATE_CONFIG: configPath };
    const server = npmStart(env);
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
    const server = npmStart({ PASSGATE_DATA_DIR: dataDir, PASSGATE_CONFIG: configPath });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('clients[0].realms[0]: unknown realm "staff"');
    expect(server.output()).toContain('defaultAudience: "x" is not the identifier of an API in apis');
    expect(server.output()).not.toMatch(/\n\s+at /);
  });
});
