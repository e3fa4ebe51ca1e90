import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../functions/local/paths.ts';
import { usernameKey } from '../../functions/oauth/passwords/normalize.ts';
import { bcryptFields, pbkdf2Fields, scryptFields } from '../helpers/legacy-hashes.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { adminServices } from '../helpers/users.ts';

let server: TestServer;
let file: string;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The real `passgate` command, against the running test server's data dir and config. */
function passgate(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'passgate.js'), ...args],
      {
        env: { ...process.env, PASSGATE_DATA_DIR: server.dataDir, PASSGATE_CONFIG: server.configPath },
        timeout: 60_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const login = (username: string, password: string) =>
  server.token({ grant_type: 'password', client_id: 'mobile-app', username, password });

beforeAll(async () => {
  server = await startTestServer();
  file = join(server.dataDir, 'auth0-export.json');
  writeFileSync(
    file,
    JSON.stringify([
      { email: 'cli-plain@example.com', email_verified: true, password: 'plain from the cli' },
      { email: 'cli-bcrypt@example.com', user_id: 'auth0|cli1', ...bcryptFields('bcrypt from the cli', 6) },
      { email: 'cli-pbkdf2@example.com', ...pbkdf2Fields('pbkdf2 from the cli', 'sha256') },
      { email: 'cli-scrypt@example.com', ...scryptFields('scrypt from the cli', { cost: 1024 }) },
      { email: 'broken', password: 'does not matter' },
    ]),
  );
});
afterAll(() => server.stop());

describe('passgate users import (the CLI)', () => {
  it('imports while the server runs, reports as JSON, and exits 1 for the rejected row', async () => {
    const run = await passgate('users', 'import', '--realm', 'customers', file, '--json');
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      realm: 'customers',
      total: 5,
      imported: 4,
      skipped: 0,
      rejected: 1,
      failed: 0,
      rejections: [{ row: 5, code: 'invalid_email', reason: 'invalid email "broken"', username: 'broken' }],
      // The three imported with a hash: the password policy screens each at its next change.
      unscreened: 3,
    });
    // Not a terminal: plain count lines on stderr, never on stdout.
    expect(run.stderr).toContain('5/5 rows: 4 imported, 0 updated, 0 skipped, 1 rejected, 0 failed\n');
    expect(run.stderr).toContain('passgate: 1 row(s) rejected, 0 failed\n');
  });

  it('lets every imported user log in, and upgrades their hash on the way', async () => {
    for (const [username, password] of [
      ['cli-plain@example.com', 'plain from the cli'],
      ['cli-bcrypt@example.com', 'bcrypt from the cli'],
      ['cli-pbkdf2@example.com', 'pbkdf2 from the cli'],
      ['cli-scrypt@example.com', 'scrypt from the cli'],
    ] as const) {
      expect((await login(username, password)).status, username).toBe(200);
      const user = await adminServices(server).users.findByUsername('customers', usernameKey(username));
      expect(user?.password_hash, username).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      expect((await login(username, password)).status, username).toBe(200);
    }
  });

  it('is safe to run again: everyone is skipped, the readable report says so', async () => {
    const run = await passgate('users', 'import', '--realm', 'customers', file);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^realm "customers": 5 row\(s\) in \d+\.\d s \(\d+ rows\/s\)\n/);
    expect(run.stdout).toContain(
      '  imported  0\n  updated   0\n  skipped   4  (already present)\n  rejected  1\n  failed    0\n' +
        'rejected rows:\n  row 5 (broken): invalid email "broken"\n',
    );
    // The kinds of hash kept, so that an operator sees what a failed login costs now.
    expect(run.stdout.trimEnd().split('\n').slice(-4)).toEqual([
      'hashes kept until each user logs in; until then every failed login in the realm verifies one of each:',
      '  $2b$06',
      expect.stringMatching(/^ {2}\$pbkdf2-sha256\$i=\d+,l=\d+$/),
      expect.stringMatching(/^ {2}\$scrypt\$ln=\d+,r=\d+,p=\d+\$\d+$/),
    ]);
  });

  // Several CLI processes and an import: on a busy machine each CLI start takes seconds.
  it('counts the users per kind of hash, and forgets the kinds no user has any more', {
    timeout: 120_000,
  }, async () => {
    // Everyone from the file is on argon2id now (logged in, or imported plain); one more arrives on bcrypt.
    const later = join(server.dataDir, 'later.jsonl');
    writeFileSync(
      later,
      `${JSON.stringify({ email: 'cli-late@example.com', ...bcryptFields('late', 6) })}\n`,
    );
    expect((await passgate('users', 'import', '--realm', 'customers', later)).code).toBe(0);
    // As if imported by a release that did not record classes: listing the realm records it.
    await adminServices(server).users.removeHashCostClasses('customers', ['$2b$06']);
    const listing = await passgate('users', 'hash-classes', '--realm', 'customers');
    expect(listing.stdout).toContain(
      '  $2b$06  1 user(s)  ~5 ms  (verified by every failed login)  (recorded now)\n',
    );
    const classes = async () =>
      JSON.parse((await passgate('users', 'hash-classes', '--realm', 'customers', '--json')).stdout).classes;
    const argon2id = {
      costClass: '$argon2id$v=19$m=19456,t=2,p=1$32',
      users: 4,
      recorded: false,
      current: true,
      estimatedMs: expect.closeTo(16.2, 0),
    };
    const bcrypt6 = { costClass: '$2b$06', users: 1, recorded: true, current: false, estimatedMs: 85 / 16 };
    const recordedOnly = (costClass: string) => ({
      costClass,
      users: 0,
      recorded: true,
      current: false,
      estimatedMs: expect.any(Number),
    });
    expect(await classes()).toEqual([
      bcrypt6,
      argon2id,
      recordedOnly(expect.stringMatching(/^\$pbkdf2-sha256\$/)),
      recordedOnly(expect.stringMatching(/^\$scrypt\$/)),
    ]);

    const prune = await passgate('users', 'hash-classes', '--realm', 'customers', '--prune');
    expect(prune.code).toBe(0);
    expect(prune.stdout.match(/\(forgotten now: no user has it\)/g)).toHaveLength(2);
    expect(prune.stdout).toContain('  $2b$06  1 user(s)  ~5 ms  (verified by every failed login)\n');
    expect(await classes()).toEqual([bcrypt6, argon2id]);
    // The bcrypt user still logs in, and with that the realm is all argon2id: nothing left to prune but $2b$06.
    expect((await login('cli-late@example.com', 'late')).status).toBe(200);
    await passgate('users', 'hash-classes', '--realm', 'customers', '--prune');
    expect(await classes()).toEqual([{ ...argon2id, users: 5 }]);
    expect((await login('cli-late@example.com', 'not it')).status).toBe(400);
  });

  it('overwrites on purpose with --upsert, and exits 0 when every row went in', async () => {
    const upsertFile = join(server.dataDir, 'upsert.jsonl');
    writeFileSync(
      upsertFile,
      `${JSON.stringify({ email: 'cli-bcrypt@example.com', user_id: 'auth0|cli1', password: 'a new password' })}\n`,
    );
    const run = await passgate('users', 'import', '--realm', 'customers', upsertFile, '--upsert', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ updated: 1, imported: 0, upsert: true });
    expect((await login('cli-bcrypt@example.com', 'a new password')).status).toBe(200);
    expect((await login('cli-bcrypt@example.com', 'bcrypt from the cli')).status).toBe(400);
  });

  it('says what is wrong with the command line', async () => {
    const noFile = await passgate('users', 'import', '--realm', 'customers');
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/^passgate: users import takes one FILE\n/);
    const missing = await passgate(
      'users',
      'import',
      '--realm',
      'customers',
      join(server.dataDir, 'nope.json'),
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^passgate: cannot read .*nope\.json \(ENOENT\)\n$/);
    const realm = await passgate('users', 'import', '--realm', 'staff', file);
    expect(realm.code).toBe(1);
    expect(realm.stderr).toMatch(/passgate: unknown realm "staff" \(configured: customers, employees\)\n$/);
  });
});
