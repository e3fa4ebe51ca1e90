import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { transform } from 'esbuild';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../functions/local/paths.ts';
import { runCli } from '../helpers/cli.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { codeBlocks, shellWords } from '../helpers/markdown.ts';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const quickStart = readme.slice(
  readme.indexOf('## Quick start'),
  readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1),
);
const blocks = codeBlocks(quickStart);

/** `printf "<password>" | npx passgate <args>`: the README's way to create the first user. */
function createUserCommand() {
  const line = blocks
    .map((block) => block.text.trim())
    .find((text) => text.includes('passgate users create'));
  if (!line) throw new Error('the quick start creates no user');
  const [printf, command] = line.split(' | ');
  const password = shellWords(printf ?? '')[1] ?? '';
  const words = shellWords(command ?? '');
  return { password, args: words.slice(words.indexOf('passgate') + 1) };
}

/** The `curl` token request, as curl sends it: `-d` values joined with `&`, form-encoded. */
function tokenRequest() {
  const curl = blocks.find((block) => block.text.trimStart().startsWith('curl'));
  if (!curl) throw new Error('the quick start has no curl request');
  const words = shellWords(curl.text);
  const url = words.find((word) => word.startsWith('http'));
  const data = words.flatMap((word, i) => (words[i - 1] === '-d' ? [word] : []));
  if (!url) throw new Error('the curl request has no URL');
  return { url: new URL(url), body: data.join('&') };
}

/** The sample response printed after the request. */
function sampleResponse(): Record<string, unknown> {
  const sample = blocks.find((block) => block.lang === 'json');
  if (!sample) throw new Error('the quick start shows no sample response');
  return JSON.parse(sample.text);
}

let server: TestServer;

beforeAll(async () => {
  // The quick start runs with the shipped config file.
  server = await startTestServer({
    config: JSON.parse(readFileSync(join(repoRoot, 'passgate.config.json'), 'utf8')),
  });
});
afterAll(() => server.stop());

describe('the README quick start', () => {
  it('signs in with the request it shows, and answers with the response it shows', async () => {
    const { password, args } = createUserCommand();
    const created = await runCli(args, {
      env: { PASSGATE_DATA_DIR: server.dataDir, PASSGATE_CONFIG: server.configPath },
      stdin: password,
    });
    // Nothing on stderr but the one line that names the store it wrote to.
    expect(created.stderr).toBe(`passgate: local store ${server.dataDir} (PASSGATE_DATA_DIR)\n`);
    expect(created.code).toBe(0);

    const { url, body } = tokenRequest();
    expect(url.origin).toBe('http://localhost:3000');
    const response = await fetch(new URL(url.pathname, server.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' }, // what curl -d sends
      body,
    });
    expect(response.status).toBe(200);
    const actual = (await response.json()) as Record<string, unknown>;

    const sample = sampleResponse();
    expect(Object.keys(actual).sort()).toEqual(Object.keys(sample).sort());
    expect(actual.token_type).toBe(sample.token_type);
    expect(actual.scope).toBe(sample.scope);
    expect(actual.expires_in).toBe(sample.expires_in);
    // The sample's tokens are true beginnings: the JWT headers they start with.
    for (const name of ['access_token', 'id_token'] as const) {
      expect(String(actual[name])).toMatch(new RegExp(`^${String(sample[name]).replace(/…$/, '')}`));
    }
    expect(decodeProtectedHeader(String(actual.access_token)).typ).toBe('at+jwt');
    expect(decodeJwt(String(actual.access_token)).aud).toBe('https://api.example.com/');
    expect(String(actual.refresh_token)).toMatch(/^[A-Za-z0-9_-]{100,}$/);
  });
});

type SignIn = (username: string, password: string) => Promise<Record<string, unknown>>;

/** The README's mobile sign-in function, as an app would ship it, pointed at the test server. */
async function mobileSignIn(issuer: string): Promise<SignIn> {
  const start = readme.indexOf('## Signing in from a mobile app');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const sample = codeBlocks(section).find((block) => block.lang === 'ts');
  if (!sample) throw new Error('the README shows no mobile sign-in code');
  const { code } = await transform(sample.text.replace('http://localhost:3000/', issuer), { loader: 'ts' });
  return new Function(`${code}\nreturn signIn;`)() as SignIn;
}

describe('the README mobile sign-in', () => {
  it('gets an access token and a refresh token, and says so when the password is wrong', async () => {
    const password = 'a mobile password 1';
    const created = await runCli(
      ['users', 'create', '--realm', 'customers', '--username', 'maria', '--password-stdin'],
      {
        env: { PASSGATE_DATA_DIR: server.dataDir, PASSGATE_CONFIG: server.configPath },
        stdin: password,
      },
    );
    expect(created.code).toBe(0);
    const signIn = await mobileSignIn(server.issuer);

    const tokens = await signIn('maria', password);
    expect(tokens.scope).toBe('openid offline_access read:orders');
    expect(decodeJwt(String(tokens.access_token)).gty).toBe('password-realm');
    expect(String(tokens.refresh_token)).toMatch(/^[A-Za-z0-9_-]{100,}$/);
    await expect(signIn('maria', 'not the password')).rejects.toThrow('Wrong username or password.');
  });
});
