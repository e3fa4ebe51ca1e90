import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { Argon2Hasher } from '../../functions/adapters/passwords/argon2-hasher.ts';
import { Argon2WorkerPool } from '../../functions/adapters/passwords/argon2-worker-pool.ts';
import {
  decodeB64,
  dummyHashOf,
  formatPbkdf2,
  formatScrypt,
  hashCostClass,
  parsePasswordHash,
} from '../../functions/oauth/passwords/hash-format.ts';
import { upgradePasswordHashIfOutdated } from '../../functions/oauth/passwords/upgrade.ts';
import type { UserRecord } from '../../functions/oauth/ports.ts';
import { admitCostClasses, estimatedVerifyMs } from '../../functions/oauth/protection/hash-cost-budget.ts';
import type { Services } from '../../functions/oauth/services.ts';
import { argon2Fields } from '../helpers/legacy-hashes.ts';

const hasher = new Argon2Hasher();
const salt = randomBytes(16);
const pbkdf2 = (password: string) =>
  formatPbkdf2('sha256', 1000, salt, pbkdf2Sync(password, salt, 1000, 32, 'sha256'));
const scrypt = (password: string) =>
  formatScrypt(1024, 8, 1, salt, scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 }));
const argon2 = async (password: string, variant: 'argon2i' | 'argon2id') =>
  ((await argon2Fields(password, variant)).custom_password_hash as { hash: { value: string } }).hash.value;

describe('stored password hash formats', () => {
  it('reads each algorithm and its parameters', async () => {
    expect(parsePasswordHash(await hasher.hash('pw'))).toEqual({
      algorithm: 'argon2id',
      version: 19,
      memoryCost: 19456,
      timeCost: 2,
      parallelism: 1,
    });
    expect(parsePasswordHash(bcrypt.hashSync('pw', 5))).toEqual({ algorithm: 'bcrypt', cost: 5 });
    expect(parsePasswordHash(pbkdf2('pw'))).toMatchObject({
      algorithm: 'pbkdf2',
      digest: 'sha256',
      iterations: 1000,
    });
    expect(parsePasswordHash(scrypt('pw'))).toMatchObject({
      algorithm: 'scrypt',
      cost: 1024,
      blockSize: 8,
      parallelization: 1,
    });
  });

  it('takes Auth0 defaults (i=100000, l=64) for a PBKDF2 string without parameters', () => {
    const hash = Buffer.alloc(64, 1).toString('base64').replace(/=+$/, '');
    expect(parsePasswordHash(`$pbkdf2-sha512$c2FsdHNhbHQ$${hash}`)).toMatchObject({
      iterations: 100_000,
      digest: 'sha512',
    });
  });

  it.each([
    ['', 'not a PHC string ($<algorithm>$…)'],
    ['5f4dcc3b5aa765d61d8327deb882cf99', 'not a PHC string ($<algorithm>$…)'],
    ['$md5$abc', 'unknown algorithm "md5"'],
    [
      '$2x$10$0123456789012345678901uAbCdEfGhIjKlMnOpQrStUvWxYz0123',
      'bcrypt prefix $2x$ is not supported ($2a$, $2b$, $2y$)',
    ],
    ['$2b$10$tooShort', 'not a bcrypt hash ($2a$, $2b$ or $2y$, cost, 53 characters)'],
    [
      '$2b$31$0123456789012345678901uAbCdEfGhIjKlMnOpQrStUvWxYz0123',
      'bcrypt cost 31 is out of bounds (4-15)',
    ],
    ['$pbkdf2-md5$i=1000,l=16$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA', 'PBKDF2 with md5 is refused: a broken digest'],
    ['$pbkdf2-sha256$i=1000,l=32$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA', 'PBKDF2 l=32 but the hash is 16 bytes'],
    [
      '$pbkdf2-sha256$i=9000000,l=16$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA',
      'PBKDF2 i=9000000 is out of bounds (1-2000000)',
    ],
    ['$pbkdf2-sha256$i=1000,l=16$c2F*dA$AAAAAAAAAAAAAAAAAAAAAA', 'PBKDF2: the salt is missing or not B64'],
    [
      '$pbkdf2$i=1000$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA',
      'PBKDF2 hashes must name their digest ($pbkdf2-sha256$…)',
    ],
    ['$scrypt$ln=22,r=8,p=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA', 'scrypt N=4194304, r=8 needs more than 256 MiB'],
    ['$scrypt$n=14,r=8,p=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA', 'scrypt parameters must be ln=, r= and p='],
    [
      '$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA',
      'argon2 m=4194304 is out of bounds (8·p to 262144 KiB)',
    ],
    [
      '$argon2id$v=18$m=4096,t=2,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA',
      'argon2 version v=18 is not 16 or 19',
    ],
    [
      '$argon2id$v=19$m=4096,t=2,p=1,keyid=abc$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA',
      'argon2 parameters must be m=, t= and p= (hashes with a keyid or data are not supported)',
    ],
    ['$argon2id$v=19$m=4096,t=2,p=1$c2FsdHNhbHQ$AAAA', 'argon2: the hash is 3 bytes (16 to 1024 accepted)'],
  ])('refuses %j: %s', (text, problem) => {
    expect(parsePasswordHash(text)).toBe(problem);
  });

  it('reads B64 strictly: standard alphabet, padding optional, nothing that cannot be base64', () => {
    expect(decodeB64('c2FsdA')).toEqual(Buffer.from('salt'));
    expect(decodeB64('c2FsdA==')).toEqual(Buffer.from('salt'));
    expect(decodeB64('c2F-dA')).toBeUndefined();
    expect(decodeB64('c2FsdAx')).toBeUndefined(); // not canonical: trailing bits set
    expect(decodeB64('c')).toBeUndefined();
  });
});

describe('password hasher', () => {
  it('verifies every kept algorithm, and refuses the wrong password with each', async () => {
    const hashes = [
      bcrypt.hashSync('right password', 5),
      bcrypt.hashSync('right password', 5).replace('$2b$', '$2a$'),
      bcrypt.hashSync('right password', 5).replace('$2b$', '$2y$'),
      pbkdf2('right password'),
      scrypt('right password'),
      await argon2('right password', 'argon2i'),
      await argon2('right password', 'argon2id'),
      await hasher.hash('right password'),
    ];
    for (const hash of hashes) {
      expect(await hasher.verify(hash, 'right password'), hash).toBe(true);
      expect(await hasher.verify(hash, 'wrong password'), hash).toBe(false);
    }
  });

  it('never verifies a malformed hash', async () => {
    expect(await hasher.verify('$2b$10$tooShort', 'pw')).toBe(false);
    expect(await hasher.verify('plain-text-password', 'plain-text-password')).toBe(false);
    expect(await hasher.verify('$pbkdf2-md5$i=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA', 'pw')).toBe(false);
  });

  it('asks for a re-hash of anything but argon2id with the current parameters', async () => {
    expect(hasher.needsRehash(await hasher.hash('pw'))).toBe(false);
    expect(hasher.needsRehash(await argon2('pw', 'argon2id'))).toBe(true); // m=4096,t=3
    expect(hasher.needsRehash(await argon2('pw', 'argon2i'))).toBe(true);
    expect(hasher.needsRehash(bcrypt.hashSync('pw', 4))).toBe(true);
    expect(hasher.needsRehash(pbkdf2('pw'))).toBe(true);
    expect(hasher.needsRehash(scrypt('pw'))).toBe(true);
    const stronger = new Argon2Hasher({ memoryCost: 19456, timeCost: 3, parallelism: 1 });
    expect(stronger.needsRehash(await hasher.hash('pw'))).toBe(true);
  });

  it('verifies unknown users against an argon2id hash of the current parameters that nothing matches', async () => {
    const dummy = (hasher as unknown as { dummyHash: string }).dummyHash;
    expect(hasher.needsRehash(dummy)).toBe(false); // argon2id, same m, t, p: it costs a real verify
    expect(dummy).not.toBe((new Argon2Hasher() as unknown as { dummyHash: string }).dummyHash);
    expect(await hasher.verifyDummy('passgate-dummy-password-for-unknown-users')).toBe(false);
    expect(await hasher.verify(dummy, '')).toBe(false);
  });

  it('names the cost class of each kind of hash, and makes a dummy of that class nothing matches', async () => {
    expect(hasher.currentCostClass).toBe('$argon2id$v=19$m=19456,t=2,p=1$32');
    expect(hashCostClass(await hasher.hash('pw'))).toBe(hasher.currentCostClass);
    const real = {
      argon2i: await argon2('pw', 'argon2i'),
      bcrypt: bcrypt.hashSync('pw', 5),
      pbkdf2: pbkdf2('pw'),
      scrypt: scrypt('pw'),
    };
    expect(Object.values(real).map(hashCostClass)).toEqual([
      '$argon2i$v=19$m=4096,t=3,p=1$32',
      '$2b$05',
      '$pbkdf2-sha256$i=1000,l=32',
      '$scrypt$ln=10,r=8,p=1$32',
    ]);
    for (const hash of Object.values(real)) {
      const costClass = hashCostClass(hash) as string;
      const dummy = dummyHashOf(costClass) as string;
      expect(hashCostClass(dummy), costClass).toBe(costClass);
      const {
        salt: _s,
        hash: _h,
        ...parameters
      } = parsePasswordHash(hash) as { salt?: Buffer; hash?: Buffer };
      expect(parsePasswordHash(dummy), costClass).toMatchObject(parameters);
      expect(await hasher.verify(dummy, 'pw'), costClass).toBe(false);
      expect(await hasher.verifyDummy('pw', costClass)).toBe(false);
    }
    // bcrypt's dummy has a salt bcrypt takes, so its verify runs all 2^cost rounds, not a refusal.
    for (let i = 0; i < 20; i += 1) {
      const bcryptDummy = dummyHashOf('$2b$04') as string;
      expect(bcrypt.hashSync('pw', bcrypt.getSalt(bcryptDummy)).slice(0, 29)).toBe(bcryptDummy.slice(0, 29));
    }
    // Spellings of one hash are one class, whatever the salt; every class has its dummy.
    const b64 = (bytes: number) => randomBytes(bytes).toString('base64').replace(/=+$/, '');
    const current = await hasher.hash('pw');
    const [, , , params, saltText, output] = current.split('$');
    const spellings: [string, string][] = [
      [current.replace(params as string, 't=2,p=1,m=19456'), hasher.currentCostClass],
      [`$argon2id$v=19$m=19456,t=2,p=1$${b64(48)}$${output}`, hasher.currentCostClass],
      [`$argon2id$m=4096,t=3,p=1$${saltText}$${output}`, '$argon2id$v=16$m=4096,t=3,p=1$32'],
      [bcrypt.hashSync('pw', 4).replace(/^\$2b\$/, '$2y$'), '$2b$04'],
      [`$pbkdf2-sha256$${b64(16)}$${b64(64)}`, '$pbkdf2-sha256$i=100000,l=64'],
      [
        `$pbkdf2-SHA256$i=1000,l=32$${randomBytes(16).toString('base64')}$${b64(32)}`,
        '$pbkdf2-sha256$i=1000,l=32',
      ],
      [`$scrypt$ln=10,r=8,p=1$${b64(1000)}$${b64(32)}`, '$scrypt$ln=10,r=8,p=1$32'],
    ];
    for (const [spelling, costClass] of spellings) {
      expect(hashCostClass(spelling), spelling).toBe(costClass);
      expect(hashCostClass(dummyHashOf(costClass) ?? ''), spelling).toBe(costClass);
    }
    // What argon2 itself refuses at login is refused at import: leading zeros, a version written
    // with one, padding, a salt under 8 bytes (RFC 9106 §3.1). A salt past 1024 bytes, anywhere.
    expect(parsePasswordHash(current.replace(params as string, 'm=019456,t=2,p=1'))).toMatch(/leading zeros/);
    expect(parsePasswordHash(current.replace('$v=19$', '$v=019$'))).toMatch(/version/);
    expect(parsePasswordHash(`${current}=`)).toMatch(/padding/);
    expect(parsePasswordHash(`$argon2id$v=19$${params}$${b64(4)}$${output}`)).toMatch(/shorter than 8 bytes/);
    expect(parsePasswordHash(`$pbkdf2-sha256$i=01000,l=32$${b64(16)}$${b64(32)}`)).toMatchObject({
      iterations: 1000,
    });
    expect(parsePasswordHash(`$scrypt$ln=10,r=8,p=1$${b64(1025)}$${b64(32)}`)).toMatch(/salt is 1025 bytes/);
    // A class read from the store is checked before a dummy is made of it.
    for (const bad of [
      '',
      '$2b$99',
      '$2b$5',
      'plain',
      '$argon2id$v=19$m=1,t=1,p=1$32',
      '$scrypt$ln=10,r=8,p=1$9999$32',
    ])
      expect(dummyHashOf(bad), bad).toBeUndefined();
    expect(await hasher.verifyDummy('pw', 'plain')).toBe(false);
  });
});

describe('the failed-login budget of a realm', () => {
  it('estimates one verify of each kind of hash on one core', () => {
    expect(estimatedVerifyMs('$2b$10')).toBe(85);
    expect(estimatedVerifyMs('$2b$12')).toBe(340);
    expect(estimatedVerifyMs('$argon2id$v=19$m=19456,t=2,p=1$32')).toBeCloseTo(16.2, 1);
    // Lanes run one after another on one vCPU: p does not divide the time.
    expect(estimatedVerifyMs('$argon2id$v=19$m=65536,t=3,p=4$32')).toBeCloseTo(81.9, 1);
    // RFC 8018 §5.2: PBKDF2 runs its iterations once per digest-sized block of output.
    expect(estimatedVerifyMs('$pbkdf2-sha256$i=100000,l=64')).toBeCloseTo(59.2, 1);
    expect(estimatedVerifyMs('$pbkdf2-sha256$i=100000,l=32')).toBeCloseTo(29.6, 1);
    expect(estimatedVerifyMs('$scrypt$ln=14,r=8,p=1$32')).toBeCloseTo(41, 0);
    expect(estimatedVerifyMs('plain')).toBeUndefined();
  });

  it('admits new kinds cheapest first while a failed login stays within 1 s, and no non-class', () => {
    const current = '$argon2id$v=19$m=19456,t=2,p=1$32';
    const { admitted, refused } = admitCostClasses(
      current,
      ['$2b$12'],
      ['$2b$13', '$2b$10', '$2b$12', 'nonsense', current],
    );
    // 16 + 340 recorded; then $2b$10 (85) fits, $2b$13 (680) would make 1,121 ms.
    expect(admitted).toEqual(['$2b$10']);
    expect([...refused.keys()]).toEqual(['$2b$13', 'nonsense']);
    expect(refused.get('$2b$13')?.spentMs).toBeCloseTo(441.2, 1);
  });
});

describe('hash upgrade at login', () => {
  const user = { realm: 'customers', user_id: 'u1', password_hash: bcrypt.hashSync('pw', 4) } as UserRecord;

  function services(upgrade: () => Promise<boolean>) {
    const logs: [string, string][] = [];
    const calls: string[][] = [];
    const fake = {
      hasher,
      users: {
        upgradePasswordHash: async (_user: UserRecord, oldHash: string, newHash: string) => {
          calls.push([oldHash, newHash]);
          return upgrade();
        },
      },
      logger: { log: (level: string, message: string) => logs.push([level, message]) },
    } as unknown as Services;
    return { fake, logs, calls };
  }

  it('stores a fresh argon2id hash conditioned on the verified one', async () => {
    const { fake, logs, calls } = services(async () => true);
    await upgradePasswordHashIfOutdated(fake, user, 'pw');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.[0]).toBe(user.password_hash);
    expect(await hasher.verify(calls[0]?.[1] as string, 'pw')).toBe(true);
    expect(logs).toEqual([['info', 'password hash upgraded to argon2id']]);
  });

  it('lets a concurrent password change win, and never fails the login on a store error', async () => {
    const lost = services(async () => false);
    await upgradePasswordHashIfOutdated(lost.fake, user, 'pw');
    expect(lost.logs).toEqual([['info', 'password hash upgrade skipped: changed meanwhile']]);
    const broken = services(async () => {
      throw new Error('dynamodb down');
    });
    await expect(upgradePasswordHashIfOutdated(broken.fake, user, 'pw')).resolves.toBeUndefined();
    expect(broken.logs).toEqual([['warn', 'password hash upgrade failed']]);
  });

  it('does nothing for a current argon2id hash', async () => {
    const { fake, calls } = services(async () => true);
    await upgradePasswordHashIfOutdated(fake, { ...user, password_hash: await hasher.hash('pw') }, 'pw');
    expect(calls).toEqual([]);
  });
});

describe('argon2 worker pool (bulk imports)', () => {
  it('hashes on worker threads into the same current argon2id strings', async () => {
    const pool = new Argon2WorkerPool(2);
    try {
      const pooled = new Argon2Hasher(undefined, pool);
      const passwords = Array.from({ length: 6 }, (_, i) => `pooled password ${i}`);
      const hashes = await Promise.all(passwords.map((password) => pooled.hash(password)));
      for (const [i, hash] of hashes.entries()) {
        expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
        expect(hasher.needsRehash(hash)).toBe(false);
        expect(await hasher.verify(hash, passwords[i] as string)).toBe(true);
      }
      await expect(pool.hash('pw', { memoryCost: 0 })).rejects.toThrow(/^argon2 worker: /);
      expect(await pooled.hash('still works')).toMatch(/^\$argon2id\$/);
    } finally {
      await pool.close();
    }
  });
});
