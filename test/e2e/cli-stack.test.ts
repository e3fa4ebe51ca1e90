import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAttemptStore } from '../../functions/adapters/dynamodb/attempt-store.ts';
import { DynamoUserStore } from '../../functions/adapters/dynamodb/user-store.ts';
import { Argon2Hasher } from '../../functions/adapters/passwords/argon2-hasher.ts';
import { counterHashKeyOf } from '../../functions/adapters/secrets/counter-hash-key.ts';
import { parseConfig } from '../../functions/config/load.ts';
import { outputKeys, tableOutputKey } from '../../functions/deployment.ts';
import { ensureTables, type LocalStore, startEmbeddedStore } from '../../functions/local/embedded-store.ts';
import type { OAuthError } from '../../functions/oauth/errors.ts';
import { handleTokenRequest } from '../../functions/oauth/grants/token-endpoint.ts';
import type { RequestInfo, Services } from '../../functions/oauth/services.ts';
import { type TableNames, tables } from '../../functions/store-schema.ts';
import { runCli } from '../helpers/cli.ts';
import { testConfig } from '../helpers/config.ts';
import { memoryServices } from '../helpers/memory-ports.ts';
import {
  type SecretsManagerDouble,
  startSecretsManagerDouble,
  TEST_COUNTER_KEY_SECRET,
  testSecretArn,
} from '../helpers/secrets-manager.ts';

/** Physical names as CloudFormation makes them up: nothing like the local ones. */
const deployedTables = Object.fromEntries(
  tables.map((table) => [table.id, `Passgate-UserDirectoryTable${table.id}-1A2B3C4D5E6F`]),
) as TableNames;

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const SECRET_ARN = testSecretArn('CounterHashKeySecretBC2442D3');

/** The stacks the CloudFormation double knows, by name, with their outputs. */
const stacks: Record<string, Record<string, string>> = {
  Passgate: {
    Issuer: 'https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod/',
    ...Object.fromEntries(tables.map((table) => [tableOutputKey(table.id), deployedTables[table.id]])),
    [outputKeys.counterKeySecretArn]: SECRET_ARN,
  },
  SomethingElse: { BucketName: 'some-bucket' },
};

/** CloudFormation's DescribeStacks over the AWS Query protocol (form-encoded request, XML answer). */
function describeStacks(body: URLSearchParams): { status: number; xml: string } {
  const name = body.get('StackName') ?? '';
  const outputs = stacks[name];
  if (body.get('Action') !== 'DescribeStacks' || !outputs) {
    return {
      status: 400,
      xml: `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${escapeXml(name)} does not exist</Message></Error><RequestId>test</RequestId></ErrorResponse>`,
    };
  }
  const members = Object.entries(outputs)
    .map(
      ([key, value]) =>
        `<member><OutputKey>${key}</OutputKey><OutputValue>${escapeXml(value)}</OutputValue></member>`,
    )
    .join('');
  return {
    status: 200,
    xml: `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${name}</StackName><StackId>arn:aws:cloudformation:eu-west-1:111122223333:stack/${name}/1</StackId><CreationTime>2026-11-26T10:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>test</RequestId></ResponseMetadata></DescribeStacksResponse>`,
  };
}

let workDir: string;
let store: LocalStore;
let cloudFormation: Server;
let cloudFormationEndpoint: string;
let secretsManager: SecretsManagerDouble;
const requests: URLSearchParams[] = [];

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'passgate-cli-stack-'));
  writeFileSync(join(workDir, 'passgate.config.json'), JSON.stringify(testConfig()));
  store = await startEmbeddedStore(join(workDir, 'dynalite'));
  await ensureTables(store.db, deployedTables);
  secretsManager = await startSecretsManagerDouble({ [SECRET_ARN]: TEST_COUNTER_KEY_SECRET });
  cloudFormation = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      requests.push(body);
      const { status, xml } = describeStacks(body);
      response.writeHead(status, { 'content-type': 'text/xml' });
      response.end(xml);
    });
  });
  await new Promise<void>((resolve) => cloudFormation.listen(0, '127.0.0.1', resolve));
  cloudFormationEndpoint = `http://127.0.0.1:${(cloudFormation.address() as AddressInfo).port}`;
});

afterAll(async () => {
  cloudFormation.closeAllConnections();
  await new Promise((resolve) => cloudFormation.close(resolve));
  await secretsManager.close();
  await store.close();
  rmSync(workDir, { recursive: true, force: true });
});

/**
 * `npx passgate …` as an operator runs it against their AWS account. Asynchronous: the
 * CloudFormation double answers from this process.
 */
async function passgate(args: string[], input = '') {
  const baseEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')),
  );
  const { code, stdout, stderr } = await runCli(args, {
    baseEnv,
    env: {
      PASSGATE_CONFIG: join(workDir, 'passgate.config.json'),
      PASSGATE_DATA_DIR: join(workDir, 'local-data'),
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'operator',
      AWS_SECRET_ACCESS_KEY: 'operator',
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudFormationEndpoint,
      AWS_ENDPOINT_URL_DYNAMODB: store.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
      // The SDK's notice that Node 20 support ends in 2027; the assertions read exact stderr.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdin: input,
  });
  return { status: code, stdout, stderr };
}

describe('passgate --stack', () => {
  it('creates the first user in the tables the stack outputs name, not in the local store', async () => {
    const created = await passgate(
      [
        'users',
        'create',
        '--realm',
        'customers',
        '--username',
        'alice',
        '--password-stdin',
        '--stack',
        'Passgate',
        '--json',
      ],
      'correct horse battery staple\n',
    );
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const user = JSON.parse(created.stdout);
    expect(user).toMatchObject({ realm: 'customers', username: 'alice', blocked: false, logins_count: 0 });
    expect(requests.at(-1)?.get('StackName')).toBe('Passgate');

    const stored = await new DynamoUserStore(store.db, deployedTables.users).findByUsername(
      'customers',
      'alice',
    );
    expect(stored?.user_id).toBe(user.user_id);
    expect(await new Argon2Hasher().verify(stored?.password_hash ?? '', 'correct horse battery staple')).toBe(
      true,
    );
    expect(existsSync(join(workDir, 'local-data'))).toBe(false);
  });

  it('runs the other commands against the same tables', async () => {
    const blocked = await passgate([
      'users',
      'block',
      '--realm',
      'customers',
      '--username',
      'alice',
      '--stack',
      'Passgate',
    ]);
    expect(blocked.status).toBe(0);
    const listed = await passgate(['users', 'list', '--realm', 'customers', '--stack', 'Passgate', '--json']);
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ username: 'alice', blocked: true }),
    ]);
  });

  it('says which stack it cannot find', async () => {
    const result = await passgate(['users', 'list', '--realm', 'customers', '--stack', 'Nope']);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('passgate: stack "Nope": Stack with id Nope does not exist\n');
  });

  it('refuses a stack without passgate outputs', async () => {
    const result = await passgate(['users', 'list', '--realm', 'customers', '--stack', 'SomethingElse']);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `passgate: stack "SomethingElse" has no output ${[...tables.map((t) => tableOutputKey(t.id)), 'CounterKeySecretArn', 'Issuer'].join(', ')}: is it a passgate stack, deployed by this version?\n`,
    );
  });
});

/**
 * The brute-force side of `--stack`: the token endpoint's own code (handleTokenRequest) counting
 * failures in the deployed attempts table under the key the token function derives from the
 * stack's secret, and the CLI lifting the block with the key it reads from the same secret.
 */
describe('passgate --stack and brute-force blocks', () => {
  const IP = '203.0.113.9';
  const PASSWORD = 'correct horse battery staple';
  let services: Services;

  const info = { issuer: stacks.Passgate?.Issuer as string, requestId: 'r', sourceIp: IP } as RequestInfo;
  const mobileApp = { clientId: 'mobile-app', clientSecret: undefined, method: 'none' } as const;
  /** A password grant for bob from IP, as the token function runs it: the HTTP status it ends in. */
  const login = (password: string) =>
    handleTokenRequest(
      { grant_type: 'password', client_id: 'mobile-app', username: 'bob', password },
      mobileApp,
      info,
      services,
    ).then(
      () => 200,
      (error: OAuthError) => error.status,
    );

  /** `passgate users <command> --realm customers --username bob --stack Passgate`. */
  const onBob = (command: string[], input?: string) =>
    passgate(
      ['users', ...command, '--realm', 'customers', '--username', 'bob', '--stack', 'Passgate'],
      input,
    );

  beforeAll(async () => {
    ({ services } = await memoryServices({
      config: parseConfig(testConfig()),
      users: new DynamoUserStore(store.db, deployedTables.users),
      attempts: new DynamoAttemptStore(store.db, deployedTables.attempts),
      counterHashKey: counterHashKeyOf(TEST_COUNTER_KEY_SECRET, SECRET_ARN),
      hasher: new Argon2Hasher(),
      clock: { now: () => Date.now() },
    }));
    const created = await onBob(['create', '--password-stdin'], `${PASSWORD}\n`);
    expect(created.status).toBe(0);
  });

  /** Ten wrong passwords from one IP (the realm's limit): then even the right one gets 429. */
  async function blockBob(rightPassword: string) {
    for (let i = 0; i < 10; i++) expect(await login('not the password')).toBe(400);
    expect(await login(rightPassword)).toBe(429);
  }

  it("reads the counters' secret only for the commands that lift blocks", () => {
    // create, block, list and the failures above ran without Secrets Manager.
    expect(secretsManager.calls).toEqual([]);
  });

  it("users unblock lifts the block, with the key from the stack's secret", async () => {
    await blockBob(PASSWORD);
    const unblocked = await onBob(['unblock']);
    expect(unblocked.stderr).toBe('');
    expect(unblocked.status).toBe(0);
    expect(secretsManager.calls).toEqual([
      { target: 'secretsmanager.GetSecretValue', body: { SecretId: SECRET_ARN } },
    ]);
    expect(await login(PASSWORD)).toBe(200);
  });

  it('users set-password lifts it too', async () => {
    await blockBob(PASSWORD);
    const changed = await onBob(['set-password', '--password-stdin'], 'a brand new passphrase\n');
    expect(changed.status).toBe(0);
    expect(await login('a brand new passphrase')).toBe(200);
  });

  it('changes nothing when the secret cannot be read, and says why', async () => {
    await blockBob('a brand new passphrase');
    secretsManager.failWith = 'AccessDeniedException';
    try {
      const refused = await onBob(['unblock']);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toBe(
        'passgate: stack "Passgate": cannot read the brute-force counter key from Secrets Manager: injected AccessDeniedException\n',
      );
    } finally {
      secretsManager.failWith = undefined;
    }
    expect(await login('a brand new passphrase')).toBe(429);
  });
});
