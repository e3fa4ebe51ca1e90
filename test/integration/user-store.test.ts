import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoUserStore } from '../../functions/adapters/dynamodb/user-store.ts';
import { type NewUser, UserExistsError, UserNotFoundError } from '../../functions/oauth/ports.ts';
import { localTableNames } from '../../functions/store-schema.ts';
import { startTestDynamo, type TestDynamo } from '../helpers/dynamo.ts';

let dynamo: TestDynamo;
let store: DynamoUserStore;

const newUser = (username: string, overrides: Partial<NewUser> = {}): NewUser => ({
  realm: 'customers',
  user_id: `id-${username}`,
  username,
  username_key: username.toLowerCase(),
  email_verified: false,
  blocked: false,
  created_at: '2026-11-26T10:00:00.000Z',
  password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA',
  permissions: {},
  ...overrides,
});

beforeAll(async () => {
  dynamo = await startTestDynamo();
  store = new DynamoUserStore(dynamo.db, localTableNames.users);
});
afterAll(() => dynamo.close());

describe('DynamoDB user store', () => {
  it('creates a user and finds it by realm and username key, and by id', async () => {
    const created = await store.create(newUser('Alice', { email: 'alice@example.com' }));
    expect(created).toMatchObject({ logins_count: 0, updated_at: '2026-11-26T10:00:00.000Z' });
    expect(await store.findByUsername('customers', 'alice')).toEqual(created);
    expect(await store.findById('customers', 'id-Alice')).toEqual(created);
    expect(await store.findByUsername('employees', 'alice')).toBeUndefined();
    expect(await store.findById('employees', 'id-Alice')).toBeUndefined();
  });

  it('never overwrites an existing username in the same realm, but allows it in another', async () => {
    await store.create(newUser('bob'));
    await expect(store.create(newUser('bob', { user_id: 'other' }))).rejects.toBeInstanceOf(UserExistsError);
    await expect(store.create(newUser('bob', { realm: 'employees' }))).resolves.toMatchObject({
      realm: 'employees',
    });
  });

  it('counts logins atomically, also when they happen at once', async () => {
    const carol = await store.create(newUser('carol'));
    await Promise.all(Array.from({ length: 10 }, () => store.recordLogin(carol, '2026-11-26T11:00:00.000Z')));
    expect(await store.findByUsername('customers', 'carol')).toMatchObject({
      logins_count: 10,
      last_login: '2026-11-26T11:00:00.000Z',
    });
  });

  it('does not resurrect a deleted user or count a namesake when recording a login', async () => {
    const dave = await store.create(newUser('dave'));
    await store.delete('customers', 'dave');
    await store.recordLogin(dave, '2026-11-26T11:00:00.000Z');
    expect(await store.findByUsername('customers', 'dave')).toBeUndefined();
    await store.create(newUser('dave', { user_id: 'new-dave' }));
    await store.recordLogin(dave, '2026-11-26T11:00:00.000Z');
    expect(await store.findByUsername('customers', 'dave')).toMatchObject({
      user_id: 'new-dave',
      logins_count: 0,
    });
  });

  it('updates password, block flag and permissions, and reports a missing user', async () => {
    await store.create(newUser('erin'));
    await store.setPassword('customers', 'erin', 'new-hash', '2026-11-26T12:00:00.000Z');
    await store.setBlocked('customers', 'erin', true, '2026-11-26T12:01:00.000Z');
    const updated = await store.setPermissions(
      'customers',
      'erin',
      'https://api/',
      ['read'],
      '2026-11-26T12:02:00.000Z',
    );
    expect(updated).toMatchObject({
      password_hash: 'new-hash',
      blocked: true,
      permissions: { 'https://api/': ['read'] },
      updated_at: '2026-11-26T12:02:00.000Z',
    });
    await expect(store.setBlocked('customers', 'nobody', true, 'x')).rejects.toBeInstanceOf(
      UserNotFoundError,
    );
    await expect(store.setPassword('customers', 'nobody', 'h', 'x')).rejects.toBeInstanceOf(
      UserNotFoundError,
    );
    await expect(store.delete('customers', 'nobody')).rejects.toBeInstanceOf(UserNotFoundError);
    expect(await store.findByUsername('customers', 'nobody')).toBeUndefined();
  });

  it('lists the users of one realm only', async () => {
    await store.create(newUser('frank', { realm: 'staff' }));
    await store.create(newUser('grace', { realm: 'staff' }));
    const listed = [];
    for await (const user of store.list('staff')) listed.push(user.username);
    expect(listed.sort()).toEqual(['frank', 'grace']);
  });
});
