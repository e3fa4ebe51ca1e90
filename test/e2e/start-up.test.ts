import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { testConfig } from '../helpers/config.ts';
import { npmStart, waitFor } from '../helpers/npm-start.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A data dir, a config file in it, and a server record file of its own (never the checkout's). */
function setting() {
  const dir = mkdtempSync(join(tmpdir(), 'passgate-start-up-'));
  dirs.push(dir);
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(testConfig()));
  const dataDir = join(dir, 'data');
  const serverFile = join(dir, 'server.json');
  return { dir, dataDir, configPath, serverFile };
}

/** The test process's environment without the settings a test sets itself. */
const cleanEnv = () => {
  const env = { ...process.env };
  delete env.PASSGATE_DATA_DIR;
  delete env.PASSGATE_CONFIG;
  return env;
};

describe('a server on its own data dir and the CLI', () => {
  it('the banner names the data dir, and a CLI run without it finds the running server and says so', async () => {
    const { dataDir, configPath, serverFile } = setting();
    const server = npmStart({
      PASSGATE_DATA_DIR: dataDir,
      PASSGATE_CONFIG: configPath,
      PASSGATE_SERVER_FILE: serverFile,
    });
    try {
      const [, issuer] = await waitFor(server.output, /issuer: +(http:\/\/localhost:\d+\/)/);
      await waitFor(server.output, /ask for a token/);
      expect(server.output()).toContain(
        `| PASSGATE_DATA_DIR=${dataDir} PASSGATE_CONFIG=${configPath} npx passgate users create --realm customers`,
      );
      // No PASSGATE_DATA_DIR nor PASSGATE_CONFIG: the server's record leads the CLI to its store.
      const created = await runCli(
        ['users', 'create', '--realm', 'customers', '--username', 'alice', '--password-stdin'],
        {
          env: { PASSGATE_SERVER_FILE: serverFile },
          baseEnv: cleanEnv(),
          stdin: 'correct horse battery staple',
        },
      );
      expect(created.stderr).toBe(`passgate: local store ${dataDir} (the local server on ${issuer})\n`);
      expect(created.code).toBe(0);
      const token = await fetch(`${issuer}oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: 'mobile-app',
          username: 'alice',
          password: 'correct horse battery staple',
        }),
      });
      expect(token.status).toBe(200);
    } finally {
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
    expect(existsSync(serverFile)).toBe(false); // a stopped server leads no CLI anywhere
  });
});

describe('start-up errors: one line, exit status 1, no stack trace', () => {
  const startFails = async (env: Record<string, string>) => {
    const server = npmStart(env);
    expect(await server.exited).toBe(1);
    const output = server.output();
    expect(output).not.toMatch(/\n\s+at /);
    return output;
  };

  it('PORT that is not a number', async () => {
    const { dataDir, configPath, serverFile } = setting();
    const output = await startFails({
      PORT: 'abc',
      PASSGATE_DATA_DIR: dataDir,
      PASSGATE_CONFIG: configPath,
      PASSGATE_SERVER_FILE: serverFile,
    });
    expect(output).toBe('PORT must be a port number from 0 to 65535, not "abc"\n');
  });

  it('a port in use', async () => {
    const { dataDir, configPath, serverFile } = setting();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const output = await startFails({
        PORT: String(port),
        PASSGATE_DATA_DIR: dataDir,
        PASSGATE_CONFIG: configPath,
        PASSGATE_SERVER_FILE: serverFile,
      });
      expect(output).toBe(`port ${port} is in use; set PORT to another port (PORT=3001 npm start)\n`);
    } finally {
      taken.close();
    }
  });

  it('a data dir that cannot be used', async () => {
    const { dir, configPath, serverFile } = setting();
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const dataDir = join(file, 'data');
    const output = await startFails({
      PASSGATE_DATA_DIR: dataDir,
      PASSGATE_CONFIG: configPath,
      PASSGATE_SERVER_FILE: serverFile,
    });
    expect(output).toBe(
      `the data dir ${dataDir} cannot be used (ENOTDIR on ${dataDir}); set PASSGATE_DATA_DIR to a directory you can write\n`,
    );
  });

  it('a config file that is not valid JSON, with its line and column', async () => {
    const { dataDir, configPath, serverFile } = setting();
    writeFileSync(
      configPath,
      '{\n  "defaultRealm": "customers",\n  "realms": [{ "name": "customers" },]\n}\n',
    );
    const output = await startFails({
      PASSGATE_DATA_DIR: dataDir,
      PASSGATE_CONFIG: configPath,
      PASSGATE_SERVER_FILE: serverFile,
    });
    expect(output).toBe(
      `${configPath}: 1 problem(s) in the passgate configuration:\n  not valid JSON at line 3, column 38: Unexpected token ']'\n`,
    );
  });
});

/** A GET or POST over HTTPS that trusts exactly `ca`, as a phone told to trust the certificate. */
function httpsJson(url: string, ca: string, form?: Record<string, string>) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const sent = request(
      url,
      {
        ca,
        method: form ? 'POST' : 'GET',
        headers: form ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      },
      (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

describe('npm start -- --https', () => {
  // Two starts of the server and a CLI run: more than one test's usual time on a busy machine.
  it('serves TLS with a certificate made once into the data dir, and an https issuer', {
    timeout: 90_000,
  }, async () => {
    const { dataDir, configPath, serverFile } = setting();
    const env = {
      PASSGATE_HTTPS: '1',
      PASSGATE_DATA_DIR: dataDir,
      PASSGATE_CONFIG: configPath,
      PASSGATE_SERVER_FILE: serverFile,
    };
    const fingerprints: string[] = [];
    for (const run of [1, 2]) {
      const server = npmStart(env);
      try {
        const [, issuer] = await waitFor(server.output, /issuer: +(https:\/\/localhost:\d+\/)/);
        const [, fingerprint] = await waitFor(server.output, /SHA-256 fingerprint: ([0-9A-F:]+)\n/);
        const cert = readFileSync(join(dataDir as string, 'tls-cert.pem'), 'utf8');
        expect(fingerprint).toBe(new X509Certificate(cert).fingerprint256);
        expect(statSync(join(dataDir as string, 'tls-key.pem')).mode & 0o777).toBe(0o600);
        fingerprints.push(fingerprint as string);
        const discovery = await httpsJson(`${issuer}.well-known/openid-configuration`, cert);
        expect(discovery.body.issuer).toBe(issuer);
        expect(discovery.body.token_endpoint).toBe(`${issuer}oauth/token`);
        if (run === 1) {
          await runCli(['users', 'create', '--realm', 'customers', '--username', 'tls', '--password-stdin'], {
            env,
            stdin: 'correct horse battery staple',
          });
        }
        const token = await httpsJson(`${issuer}oauth/token`, cert, {
          grant_type: 'password',
          client_id: 'mobile-app',
          username: 'tls',
          password: 'correct horse battery staple',
        });
        expect(token.status).toBe(200);
        expect(token.body.token_type).toBe('Bearer');
      } finally {
        server.child.kill('SIGTERM');
      }
      await server.exited;
    }
    // Made once: a simulator told to trust it goes on trusting it after a restart.
    expect(fingerprints[1]).toBe(fingerprints[0]);
  });
});
