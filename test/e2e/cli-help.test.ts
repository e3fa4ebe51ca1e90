import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { runCli } from '../helpers/cli.ts';
import { API, testConfig } from '../helpers/config.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Its own data dir and config, so that no command here reaches the checkout's own store. */
let env: Record<string, string>;
beforeAll(() => {
  const dataDir = mkdtempSync(join(tmpdir(), 'passgate-help-'));
  dirs.push(dataDir);
  const configPath = join(dataDir, 'config.json');
  writeFileSync(configPath, JSON.stringify(testConfig()));
  env = { PASSGATE_DATA_DIR: dataDir, PASSGATE_CONFIG: configPath };
});

describe('passgate help', () => {
  it('lists every command with `help`, `--help` and no command at all', { timeout: 60_000 }, async () => {
    for (const args of [['help'], ['--help'], []]) {
      const result = await runCli(args, { env });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`passgate ${packageJson.version}`);
      for (const command of ['users create', 'users import', 'users grant', 'clients secret']) {
        expect(result.stdout).toContain(`  ${command}`);
      }
    }
  });

  it('shows a command’s usage, flags and an example with `<command> --help` and `help <command>`', async () => {
    for (const args of [
      ['users', 'create', '--help'],
      ['help', 'users', 'create'],
    ]) {
      const result = await runCli(args, { env });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(
        /^usage: passgate users create --realm R --username U \[--email E\] \[--name N\] \[--password-stdin\]/,
      );
      expect(result.stdout).toContain(
        'example:\n  printf "correct horse battery staple" | passgate users create --realm customers --username alice --password-stdin\n',
      );
    }
  });

  it('prints the version with --version', async () => {
    const result = await runCli(['--version'], { env });
    expect([result.code, result.stdout]).toEqual([0, `${packageJson.version}\n`]);
  });

  // Five CLI processes: on a busy machine each takes seconds to start.
  it('names the closest command or flag to a mistyped one, with exit status 2', {
    timeout: 90_000,
  }, async () => {
    const cases = [
      [['user', 'list', '--realm', 'customers'], 'unknown command "user"; did you mean users?'],
      [
        ['users', 'creat', '--realm', 'customers'],
        'unknown command "users creat"; did you mean users create?',
      ],
      [
        ['users', 'get', '--realm', 'customers', '--usernme', 'x'],
        'unknown option --usernme; did you mean --username?',
      ],
      [['users', 'list', '--realm', 'customers', '--username', 'x'], 'users list takes no --username'],
      [
        ['users', 'get', '--realm', 'customers', '--username', 'x', '--scopes', 'a'],
        'users get takes no --scopes',
      ],
    ] as const;
    for (const [args, message] of cases) {
      const result = await runCli([...args], { env });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.split('\n')[0]).toBe(`passgate: ${message}`);
      expect(result.stdout).toBe('');
    }
  });
});

describe('passgate commands tell what they did', () => {
  it('users create prints a sentence, and the user as JSON only with --json', {
    timeout: 60_000,
  }, async () => {
    const args = ['users', 'create', '--realm', 'customers', '--password-stdin'];
    const human = await runCli([...args, '--username', 'ann'], { env, stdin: 'a long enough password' });
    expect(human.stdout).toMatch(/^created user ann in realm customers \(id ([0-9a-f]{24})\)\n$/);
    const machine = await runCli([...args, '--username', 'ben', '--json'], {
      env,
      stdin: 'a long enough password',
    });
    expect(machine.stderr).toBe(''); // --json: no store line either
    expect(JSON.parse(machine.stdout)).toMatchObject({ username: 'ben', realm: 'customers' });
    const quiet = await runCli(['users', 'list', '--realm', 'customers', '--quiet'], { env });
    expect([quiet.code, quiet.stderr]).toEqual([0, '']);
  });

  it('users grant on an API that does not enforce permissions says so', async () => {
    const result = await runCli(
      [
        'users',
        'grant',
        '--realm',
        'customers',
        '--username',
        'ann',
        '--api',
        API,
        '--scopes',
        'read:orders',
      ],
      { env },
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `passgate: note: ${API} does not enforce permissions ("enforcePermissions": false), so its tokens carry every scope the client asks for, whatever the user holds\n`,
    );
    expect(result.stdout).toBe(`ann now holds on ${API}: read:orders\n`);
  });

  it('users import of a file with no users says "0 users in file"', { timeout: 60_000 }, async () => {
    for (const content of ['[]', '', '\n\n']) {
      const file = join(env.PASSGATE_DATA_DIR as string, 'none.json');
      writeFileSync(file, content);
      const result = await runCli(['users', 'import', '--realm', 'customers', file], { env });
      expect([result.code, result.stdout]).toEqual([0, `0 users in file ${file}; nothing imported\n`]);
    }
  });
});
