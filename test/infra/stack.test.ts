import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/config/config-file.ts';
import {
  bundledBlocklistPath,
  CONFIG_FILE_NAME,
  environment,
  outputKeys,
  type TableId,
  tableEnvironmentVariable,
  tableOutputKey,
} from '../../functions/deployment.ts';
import { type EndpointNeeds, endpointNeeds } from '../../functions/endpoint-needs.ts';
import { type EndpointName, endpoints, routes } from '../../functions/routes.ts';
import { FUNCTION_TIMEOUT_SECONDS } from '../../functions/runtime/aws-services.ts';
import { type TableDefinition, tables } from '../../functions/store-schema.ts';
import { UserDirectory } from '../../lib/constructs/user-directory.ts';
import { tokenRoutePattern } from '../../lib/constructs/web-acl.ts';
import { StackPropsError } from '../../lib/passgate-stack.ts';
import { API, testConfig } from '../helpers/config.ts';
import { endpointAssetDir, endpointFunction, synthStack } from '../helpers/stack.ts';

const endpointNames = Object.keys(endpoints) as EndpointName[];
const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

/** The execute-api stage URL API Gateway reports, as CloudFormation builds it. */
const stageUrl = (suffix = '') => ({
  'Fn::Join': [
    '',
    [
      'https://',
      { Ref: Match.stringLikeRegexp('^TokenApi') },
      '.execute-api.',
      { Ref: 'AWS::Region' },
      '.',
      { Ref: 'AWS::URLSuffix' },
      '/',
      { Ref: Match.stringLikeRegexp('^TokenApiDeploymentStageprod') },
      `/${suffix}`,
    ],
  ],
});

function tableLogicalId(template: Template, id: TableId): string {
  const ref = new Capture();
  template.hasOutput(tableOutputKey(id), { Value: { Ref: ref } });
  return ref.asString();
}

function keyLogicalId(template: Template, name: string): string {
  const key = new Capture();
  template.hasResourceProperties('AWS::KMS::Alias', {
    AliasName: `alias/Passgate/signing-key-${name}`,
    TargetKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
  });
  return key.asString();
}

/** The one symmetric key: it seals MFA secrets. */
function mfaKeyLogicalId(template: Template): string {
  const keys = Object.keys(
    template.findResources('AWS::KMS::Key', { Properties: { KeyUsage: 'ENCRYPT_DECRYPT' } }),
  );
  expect(keys).toHaveLength(1);
  return keys[0] as string;
}

function secretLogicalId(template: Template): string {
  const secret = new Capture();
  template.hasOutput(outputKeys.counterKeySecretArn, { Value: { Ref: secret } });
  return secret.asString();
}

function logGroupOf(template: Template, endpoint: EndpointName): string {
  return (endpointFunction(template, endpoint).properties.LoggingConfig as { LogGroup: { Ref: string } })
    .LogGroup.Ref;
}

/** What every function's role starts with: its own log group, and X-Ray (no resource-level permissions). */
const basics = (template: Template, endpoint: EndpointName) => [
  {
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Effect: 'Allow',
    Resource: arnOf(logGroupOf(template, endpoint)),
  },
  { Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' },
];

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Each (action, resource) a policy allows, however `minimizePolicies` merged its statements. */
const permissions = (statements: readonly unknown[]) =>
  (statements as Statement[])
    .flatMap((statement) =>
      [statement.Action]
        .flat()
        .flatMap((action) =>
          [statement.Resource].flat().map((resource) => `${action} on ${JSON.stringify(resource)}`),
        ),
    )
    .sort();

/** Every statement of the one policy attached to an endpoint's role. */
function policyStatements(template: Template, endpoint: EndpointName) {
  const role = (endpointFunction(template, endpoint).properties.Role as { 'Fn::GetAtt': [string] })[
    'Fn::GetAtt'
  ][0];
  const policies = Object.values(
    template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }),
  );
  expect(policies).toHaveLength(1);
  return { role, statements: (policies[0]?.Properties.PolicyDocument.Statement ?? []) as unknown[] };
}

let template: Template;
beforeAll(() => {
  template = synthStack().template;
});

describe('DynamoDB tables', () => {
  it('one per definition in store-schema.ts: on demand, PITR, deletion protection, retained', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', tables.length);
    for (const table of tables) {
      const logicalId = tableLogicalId(template, table.id);
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
          KeySchema: [
            { AttributeName: table.partitionKey.name, KeyType: 'HASH' },
            ...(table.sortKey ? [{ AttributeName: table.sortKey.name, KeyType: 'RANGE' }] : []),
          ],
          ...(table.ttlAttribute
            ? { TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true } }
            : {}),
        }),
      });
      expect(Object.keys(template.findResources('AWS::DynamoDB::Table'))).toContain(logicalId);
    }
  });

  it('keeps used DPoP proofs in a table of their own whose items expire (TTL on expires_at)', () => {
    const { Properties } = template.toJSON().Resources[tableLogicalId(template, 'dpop-proofs')];
    expect(Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
    expect(Properties.GlobalSecondaryIndexes).toBeUndefined();
  });

  it('keeps mail link tickets in a table of their own whose items expire (TTL in seconds)', () => {
    const { Properties } = template.toJSON().Resources[tableLogicalId(template, 'tickets')];
    expect(Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expires_at_seconds', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
    expect(Properties.GlobalSecondaryIndexes).toBeUndefined();
  });

  it('keeps the users table lookup by user id as a keys-only index', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        {
          IndexName: 'by-user-id',
          KeySchema: [{ AttributeName: 'user_ref', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
  });

  it('gives the brute-force counters only the by-user index: both limits are read by key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'by-user',
          KeySchema: [{ AttributeName: 'user_ref', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
  });

  it('switches TTL on for a table whose definition names an expiry attribute', () => {
    const expiring: TableDefinition = {
      id: 'users',
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'sk', type: 'N' },
      globalIndexes: [],
      ttlAttribute: 'expires_at',
    };
    const stack = new Stack(new App(), 'Tables');
    new UserDirectory(stack, 'Directory', [expiring]);
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([{ AttributeName: 'sk', AttributeType: 'N' }]),
    });
  });
});

describe('KMS signing keys', () => {
  it('are asymmetric RSA_2048 SIGN_VERIFY keys, aliased and retained', () => {
    expect(
      Object.keys(template.findResources('AWS::KMS::Key', { Properties: { KeyUsage: 'SIGN_VERIFY' } })),
    ).toEqual([keyLogicalId(template, 'initial')]);
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        KeySpec: 'RSA_2048',
        KeyUsage: 'SIGN_VERIFY',
        EnableKeyRotation: Match.absent(),
      }),
    });
    keyLogicalId(template, 'initial');
  });

  it('rotate without replacing a key: swapping current and verification keys keeps both', () => {
    const before = synthStack({ signingKey: 'k1', verificationKeys: ['k2'] }).template;
    const after = synthStack({ signingKey: 'k2', verificationKeys: ['k1'] }).template;
    const ids = (t: Template) =>
      Object.keys(t.findResources('AWS::KMS::Key', { Properties: { KeyUsage: 'SIGN_VERIFY' } })).sort();
    expect(ids(after)).toEqual(ids(before));
    expect(ids(after)).toHaveLength(2);
    expect(endpointFunction(after, 'token').properties.Environment).toMatchObject({
      Variables: {
        [environment.signingKeyId]: arnOf(keyLogicalId(after, 'k2')),
        // Fn.join of a single ARN is the ARN itself: a one-item comma-separated list.
        [environment.verificationKeyIds]: arnOf(keyLogicalId(after, 'k1')),
      },
    });
  });
});

describe('the MFA key', () => {
  it('is one symmetric key with yearly rotation, retained like the tables', () => {
    template.resourceCountIs('AWS::KMS::Key', 2);
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        Description: 'passgate Passgate: seals MFA (TOTP) secrets',
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        EnableKeyRotation: true,
      }),
    });
    mfaKeyLogicalId(template);
  });

  it('seals with mfa-associate alone and opens with the token function alone', () => {
    const uses = (action: string) =>
      endpointNames.filter((endpoint) =>
        policyStatements(template, endpoint).statements.some((statement) =>
          JSON.stringify(statement).includes(`"${action}"`),
        ),
      );
    expect(uses('kms:Encrypt')).toEqual(['mfa-associate']);
    expect(uses('kms:Decrypt')).toEqual(['token']);
    const told = endpointNames.filter(
      (endpoint) =>
        environment.mfaKeyId in
        (endpointFunction(template, endpoint).properties.Environment as { Variables: object }).Variables,
    );
    expect(told).toEqual(['token', 'mfa-associate']);
  });
});

describe("the brute-force counters' secret", () => {
  it('is one secret of 64 generated letters and digits, retained like the tables', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Description: 'passgate Passgate: key of the keyed hash that names brute-force counters',
        GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
      },
    });
    expect(Object.keys(template.findResources('AWS::SecretsManager::Secret'))).toEqual([
      secretLogicalId(template),
    ]);
  });

  it('is readable by the functions that count or key with it alone, and by nobody through a resource policy', () => {
    template.resourceCountIs('AWS::SecretsManager::ResourcePolicy', 0);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    const readers = endpointNames.filter((endpoint) =>
      JSON.stringify(policyStatements(template, endpoint).statements).includes('secretsmanager:'),
    );
    expect(readers.sort()).toEqual([
      'account-delete',
      'change-password',
      'reset-password',
      'signup',
      'token',
    ]);
  });
});

describe('Lambda functions', () => {
  it.each(endpointNames)(
    '%s: Node.js 24 on arm64, sized by endpoint-needs.ts, traced, JSON logs',
    (endpoint) => {
      const { properties } = endpointFunction(template, endpoint);
      expect(properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: endpointNeeds[endpoint].memoryMiB,
        Timeout: FUNCTION_TIMEOUT_SECONDS,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } },
      });
      const logGroup = (properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(template.toJSON().Resources[logGroup]).toMatchObject({
        Type: 'AWS::Logs::LogGroup',
        Properties: { RetentionInDays: 90 },
        DeletionPolicy: 'Retain',
      });
    },
  );

  it.each(endpointNames)(
    '%s: finds its tables and keys in the environment (functions/deployment.ts)',
    (endpoint) => {
      const variables = (endpointFunction(template, endpoint).properties.Environment as { Variables: object })
        .Variables;
      expect(variables).toEqual({
        ...Object.fromEntries(
          tables.map((table) => [
            tableEnvironmentVariable(table.id),
            { Ref: tableLogicalId(template, table.id) },
          ]),
        ),
        [environment.signingKeyId]: arnOf(keyLogicalId(template, 'initial')),
        ...(endpointNeeds[endpoint].counterHashKey
          ? { [environment.counterKeySecretArn]: { Ref: secretLogicalId(template) } }
          : {}),
        ...(endpointNeeds[endpoint].mfaKey.length > 0
          ? { [environment.mfaKeyId]: arnOf(mfaKeyLogicalId(template)) }
          : {}),
      });
    },
  );

  it("tells only the functions that count or key with it where the counters' secret is", () => {
    const withSecret = endpointNames.filter(
      (endpoint) =>
        environment.counterKeySecretArn in
        (endpointFunction(template, endpoint).properties.Environment as { Variables: object }).Variables,
    );
    expect(withSecret.sort()).toEqual([
      'account-delete',
      'change-password',
      'reset-password',
      'signup',
      'token',
    ]);
  });

  it('gives the password-hashing functions one full vCPU (1769 MB)', () => {
    expect(endpointFunction(template, 'token').properties.MemorySize).toBe(1769);
    expect(endpointFunction(template, 'account-delete').properties.MemorySize).toBe(1769);
  });
});

describe('IAM: least privilege per function', () => {
  const table = (id: TableId) => arnOf(tableLogicalId(template, id));
  const currentKey = () => arnOf(keyLogicalId(template, 'initial'));
  const getPublicKey = () => ({ Action: 'kms:GetPublicKey', Effect: 'Allow', Resource: currentKey() });
  // RFC 9449 §11.1: a proof is recorded with a conditional PutItem, read back only when that fails.
  const dpopReplay = () => ({
    Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
    Effect: 'Allow',
    Resource: table('dpop-proofs'),
  });
  // The brute-force counters' secret, read at cold start by the functions that count or key with it.
  const counterSecretRead = () => ({
    Action: 'secretsmanager:GetSecretValue',
    Effect: 'Allow',
    Resource: { Ref: secretLogicalId(template) },
  });
  let rotating: Template;
  beforeAll(() => {
    rotating = synthStack({ verificationKeys: ['next'] }).template;
  });

  it("token: users, refresh tokens and attempts as the grants use them, RS256 digest signing, the counters' secret", () => {
    expect(policyStatements(template, 'token').statements).toEqual([
      ...basics(template, 'token'),
      {
        // Users: the login's user and hash cost classes in one BatchGetItem, as a refresh's user
        // beside its family; single items read and written by key, no Query, no index.
        Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Effect: 'Allow',
        Resource: table('users'),
      },
      {
        // A refresh reads its family and user in one BatchGetItem over both tables.
        Action: [
          'dynamodb:BatchGetItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ],
        Effect: 'Allow',
        Resource: table('refresh-tokens'),
      },
      {
        // Both brute-force limits: single items read and written by key.
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Effect: 'Allow',
        Resource: table('attempts'),
      },
      dpopReplay(),
      {
        Action: 'kms:Sign',
        Condition: {
          StringEquals: { 'kms:SigningAlgorithm': 'RSASSA_PKCS1_V1_5_SHA_256', 'kms:MessageType': 'DIGEST' },
        },
        Effect: 'Allow',
        Resource: currentKey(),
      },
      getPublicKey(),
      // Opens TOTP secrets to check codes (the MFA grants); never seals one.
      { Action: 'kms:Decrypt', Effect: 'Allow', Resource: arnOf(mfaKeyLogicalId(template)) },
      counterSecretRead(),
    ]);
  });

  it('revoke: reads tokens and families, ends families, verifies access tokens; never reads users', () => {
    expect(policyStatements(template, 'revoke').statements).toEqual([
      ...basics(template, 'revoke'),
      {
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Effect: 'Allow',
        Resource: table('refresh-tokens'),
      },
      getPublicKey(),
    ]);
  });

  it('introspect: reads only, and verifies access tokens', () => {
    expect(policyStatements(template, 'introspect').statements).toEqual([
      ...basics(template, 'introspect'),
      {
        Action: 'dynamodb:GetItem',
        Effect: 'Allow',
        Resource: [table('refresh-tokens'), table('users')],
      },
      getPublicKey(),
    ]);
  });

  it('userinfo: finds the user through the by-user-id index, named (no wildcard), and verifies access tokens', () => {
    expect(policyStatements(template, 'userinfo').statements).toEqual([
      ...basics(template, 'userinfo'),
      {
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Effect: 'Allow',
        Resource: [table('users'), { 'Fn::Join': ['', [table('users'), '/index/by-user-id']] }],
      },
      dpopReplay(),
      getPublicKey(),
    ]);
  });

  it('account-delete: finds the user by id, checks the password under the counters, deletes the user item; never a refresh token or a signature', () => {
    expect(policyStatements(template, 'account-delete').statements).toEqual([
      ...basics(template, 'account-delete'),
      {
        Action: [
          'dynamodb:BatchGetItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ],
        Effect: 'Allow',
        Resource: [table('users'), { 'Fn::Join': ['', [table('users'), '/index/by-user-id']] }],
      },
      {
        // The password check's counters: single items by key.
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Effect: 'Allow',
        Resource: table('attempts'),
      },
      dpopReplay(),
      getPublicKey(),
      counterSecretRead(),
    ]);
  });

  it('change-password: takes the hourly limits, finds the user, writes the ticket; no key, no user write', () => {
    expect(policyStatements(template, 'change-password').statements).toEqual([
      ...basics(template, 'change-password'),
      {
        // Where users pick a username, the address's claim names the user, found by id.
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Effect: 'Allow',
        Resource: [table('users'), { 'Fn::Join': ['', [table('users'), '/index/by-user-id']] }],
      },
      { Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Effect: 'Allow', Resource: table('attempts') },
      { Action: 'dynamodb:PutItem', Effect: 'Allow', Resource: table('tickets') },
      counterSecretRead(),
    ]);
  });

  it("reset-password: reads and spends the ticket, sets the user's password, lifts their blocks through by-user; no key", () => {
    expect(policyStatements(template, 'reset-password').statements).toEqual([
      ...basics(template, 'reset-password'),
      {
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Effect: 'Allow',
        Resource: [table('tickets'), table('users')],
      },
      {
        Action: ['dynamodb:Query', 'dynamodb:UpdateItem'],
        Effect: 'Allow',
        Resource: [table('attempts'), { 'Fn::Join': ['', [table('attempts'), '/index/by-user']] }],
      },
      counterSecretRead(),
    ]);
  });

  it('mfa-authenticators and mfa-challenge: read the mfa_token and the user; no key', () => {
    for (const endpoint of ['mfa-authenticators', 'mfa-challenge'] as const) {
      expect(policyStatements(template, endpoint).statements).toEqual([
        ...basics(template, endpoint),
        // minimizePolicies merges the two reads into one statement.
        { Action: 'dynamodb:GetItem', Effect: 'Allow', Resource: [table('refresh-tokens'), table('users')] },
      ]);
    }
  });

  it('mfa-associate: reads the mfa_token, writes the user item, seals with the MFA key only', () => {
    expect(policyStatements(template, 'mfa-associate').statements).toEqual([
      ...basics(template, 'mfa-associate'),
      { Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Effect: 'Allow', Resource: table('users') },
      { Action: 'dynamodb:GetItem', Effect: 'Allow', Resource: table('refresh-tokens') },
      { Action: 'kms:Encrypt', Effect: 'Allow', Resource: arnOf(mfaKeyLogicalId(template)) },
    ]);
  });

  it('DPoP replay table: written and read by the token function and the resources that take DPoP tokens only', () => {
    const reaching = endpointNames.filter((endpoint) =>
      JSON.stringify(policyStatements(template, endpoint).statements).includes(
        JSON.stringify(table('dpop-proofs')),
      ),
    );
    expect(reaching.sort()).toEqual(['account-delete', 'token', 'userinfo']);
  });

  it('metadata: the public halves of every key in rotation; no table', () => {
    expect(policyStatements(rotating, 'metadata').statements).toEqual([
      ...basics(rotating, 'metadata'),
      {
        Action: 'kms:GetPublicKey',
        Effect: 'Allow',
        Resource: [arnOf(keyLogicalId(rotating, 'initial')), arnOf(keyLogicalId(rotating, 'next'))],
      },
    ]);
  });

  it('verifiers read every key in rotation; the token function may sign with each while a swap deploys', () => {
    const everyKey = [arnOf(keyLogicalId(rotating, 'initial')), arnOf(keyLogicalId(rotating, 'next'))];
    for (const endpoint of ['revoke', 'introspect', 'userinfo', 'token'] as const) {
      expect(policyStatements(rotating, endpoint).statements).toContainEqual({
        Action: 'kms:GetPublicKey',
        Effect: 'Allow',
        Resource: everyKey,
      });
    }
    // CloudFormation updates the policy before the function: warm instances still sign with the
    // outgoing key, which the swap keeps as a verification key.
    expect(policyStatements(rotating, 'token').statements).toContainEqual(
      expect.objectContaining({ Action: 'kms:Sign', Resource: everyKey }),
    );
    expect(JSON.stringify(policyStatements(rotating, 'revoke').statements)).not.toContain('kms:Sign');
  });

  it.each(endpointNames)(
    '%s: a role of its own, no managed policies, assumable by Lambda only',
    (endpoint) => {
      const { role } = policyStatements(template, endpoint);
      expect(template.toJSON().Resources[role]).toMatchObject({
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Statement: [
              { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
            ],
          },
        },
      });
      expect(template.toJSON().Resources[role].Properties.ManagedPolicyArns).toBeUndefined();
    },
  );

  it.each(endpointNames)('%s: table actions exactly as endpoint-needs.ts declares them', (endpoint) => {
    const declared = endpointNeeds[endpoint].tables as Partial<Record<TableId, readonly string[]>>;
    const expected = Object.entries(declared).flatMap(([tableId, actions = []]) => {
      const arn = arnOf(tableLogicalId(template, tableId as TableId));
      const named = (endpointNeeds[endpoint] as EndpointNeeds).indexes?.[tableId as TableId] ?? [];
      // Indexes are named exactly when the endpoint reads them with Query or Scan.
      expect(named.length > 0, `${endpoint} ${tableId}`).toBe(
        actions.some((action) => action === 'Query' || action === 'Scan'),
      );
      const indexes = named.map((name) => ({ 'Fn::Join': ['', [arn, `/index/${name}`]] }));
      return permissions([
        { Action: actions.map((action) => `dynamodb:${action}`), Resource: [arn, ...indexes] },
      ]);
    });
    const granted = permissions(policyStatements(template, endpoint).statements).filter((permission) =>
      permission.startsWith('dynamodb:'),
    );
    expect(granted).toEqual(expected.sort());
  });

  it('sign-up and password reset: send mail as the configured SES identity only, never a wildcard; no other function sends', () => {
    const sending = synthStack({
      config: {
        ...testConfig(),
        email: { from: 'no-reply@Shop.Example', replyTo: 'help@shop.example' },
      },
    }).template;
    const identity = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':ses:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':identity/shop.example',
        ],
      ],
    };
    const senders = endpointNames.filter((endpoint) =>
      JSON.stringify(policyStatements(sending, endpoint).statements).includes('ses:'),
    );
    expect(senders.sort()).toEqual(['change-password', 'reset-password', 'signup']);
    for (const sender of senders) {
      const ses = policyStatements(sending, sender).statements.filter((statement) =>
        JSON.stringify(statement).includes('ses:'),
      );
      expect(ses).toEqual([{ Action: 'ses:SendEmail', Effect: 'Allow', Resource: identity }]);
      expect(JSON.stringify(ses)).not.toContain('*');
      const variables = (endpointFunction(sending, sender).properties.Environment as { Variables: object })
        .Variables;
      expect(variables).toMatchObject({ [environment.mailIdentityArn]: identity });
    }
    // Without a sender in the config nothing may send at all.
    expect(JSON.stringify(template.toJSON())).not.toContain('ses:');
  });

  it('the accounts functions alone reach the tickets table', () => {
    const users = endpointNames.filter((endpoint) =>
      JSON.stringify(policyStatements(template, endpoint).statements).includes(
        JSON.stringify(table('tickets')),
      ),
    );
    expect(users.sort()).toEqual(['change-password', 'reset-password', 'signup', 'verify-email']);
  });

  it.each(endpointNames)(
    "%s: the counters' secret exactly when endpoint-needs.ts asks for it",
    (endpoint) => {
      const granted = permissions(policyStatements(template, endpoint).statements).filter((permission) =>
        permission.startsWith('secretsmanager:'),
      );
      expect(granted).toEqual(
        endpointNeeds[endpoint].counterHashKey
          ? [`secretsmanager:GetSecretValue on ${JSON.stringify({ Ref: secretLogicalId(template) })}`]
          : [],
      );
    },
  );
});

describe('the kms-wrapped signing mode', () => {
  let wrapped: Template;
  beforeAll(() => {
    wrapped = synthStack({
      config: { ...testConfig(), signing: { mode: 'kms-wrapped' } },
      verificationKeys: ['next'],
    }).template;
  });
  const wrappingKey = () => {
    const key = new Capture();
    wrapped.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/Passgate/signing-key-wrapping',
      TargetKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
    });
    return arnOf(key.asString());
  };
  const context = { 'kms:EncryptionContext:passgate:signing-key': ['initial', 'next'] };

  it("has symmetric keys only (the wrapping key and the MFA secrets' key), rotated yearly and retained", () => {
    const keys = Object.values(wrapped.findResources('AWS::KMS::Key'));
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key).toMatchObject({ Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
      // Symmetric: KMS's defaults, whether left out or spelled out.
      expect([undefined, 'ENCRYPT_DECRYPT']).toContain(key.Properties.KeyUsage);
      expect([undefined, 'SYMMETRIC_DEFAULT']).toContain(key.Properties.KeySpec);
    }
    expect(wrappingKey()).toBeDefined();
  });

  it('tells every function the wrapping key and the key names, never a key ARN to sign with', () => {
    for (const endpoint of endpointNames) {
      const { Variables: variables } = endpointFunction(wrapped, endpoint).properties.Environment as {
        Variables: Record<string, unknown>;
      };
      expect(variables).toMatchObject({
        [environment.wrappingKeyId]: wrappingKey(),
        [environment.signingKeyName]: 'initial',
        [environment.verificationKeyNames]: 'next',
      });
      expect(variables[environment.signingKeyId]).toBeUndefined();
    }
  });

  it('lets only the token function decrypt, only keys of these names, and nobody sign with KMS', () => {
    const table = arnOf(tableLogicalId(wrapped, 'signing-keys'));
    const pairs = {
      Action: 'kms:GenerateDataKeyPairWithoutPlaintext',
      Condition: { StringEquals: { 'kms:DataKeyPairSpec': 'RSA_2048' }, 'ForAnyValue:StringEquals': context },
      Effect: 'Allow',
      Resource: wrappingKey(),
    };
    // What each function may read and write of the keys: CDK merges statements of the same
    // actions, so the DPoP proofs table (GetItem and PutItem too) may share the statement.
    const keyTableResources = (endpoint: EndpointName) =>
      (policyStatements(wrapped, endpoint).statements as { Action: unknown; Resource: unknown }[])
        .filter((statement) => JSON.stringify(statement.Action) === '["dynamodb:GetItem","dynamodb:PutItem"]')
        .flatMap((statement) => [statement.Resource].flat());
    const decrypt = {
      Action: 'kms:Decrypt',
      Condition: { 'ForAnyValue:StringEquals': context },
      Effect: 'Allow',
      Resource: wrappingKey(),
    };
    expect(policyStatements(wrapped, 'token').statements).toEqual(expect.arrayContaining([pairs, decrypt]));
    expect(keyTableResources('token')).toContainEqual(table);
    for (const endpoint of ['revoke', 'introspect', 'userinfo', 'metadata'] as const) {
      const statements = policyStatements(wrapped, endpoint).statements;
      expect(statements, endpoint).toEqual(expect.arrayContaining([pairs]));
      expect(keyTableResources(endpoint), endpoint).toContainEqual(table);
      expect(JSON.stringify(statements), endpoint).not.toContain('kms:Decrypt');
    }
    for (const endpoint of endpointNames) {
      const granted = JSON.stringify(policyStatements(wrapped, endpoint).statements);
      expect(granted, endpoint).not.toContain('kms:Sign');
      expect(granted, endpoint).not.toContain('kms:GetPublicKey');
    }
  });

  it('in the kms mode, no function reaches the signing-keys table', () => {
    for (const endpoint of endpointNames) {
      expect(JSON.stringify(policyStatements(template, endpoint).statements)).not.toContain(
        tableLogicalId(template, 'signing-keys'),
      );
    }
  });
});

describe('API Gateway', () => {
  it('is a regional REST API with the execute-api URL on when there is no custom domain', () => {
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Name: 'Passgate',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      DisableExecuteApiEndpoint: false,
    });
  });

  it('routes every path of routes.ts to its endpoint function, without an authorizer', () => {
    interface ApiResource {
      Type: string;
      Properties: { ParentId: { Ref?: string }; PathPart: string };
    }
    const resources = template.toJSON().Resources as Record<string, ApiResource>;
    const pathOf = (resourceId: string | undefined): string[] =>
      resourceId && resources[resourceId]?.Type === 'AWS::ApiGateway::Resource'
        ? [
            ...pathOf(resources[resourceId]?.Properties.ParentId.Ref),
            resources[resourceId]?.Properties.PathPart,
          ]
        : [];
    const deployed = Object.values(template.findResources('AWS::ApiGateway::Method')).map(
      ({ Properties }) => {
        expect(Properties).toMatchObject({
          AuthorizationType: 'NONE',
          Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
        });
        const target = JSON.stringify(Properties.Integration.Uri).match(
          /"Fn::GetAtt":\["([^"]+)","Arn"\]/,
        )?.[1];
        const endpoint = endpointNames.find((name) => endpointFunction(template, name).logicalId === target);
        return `${Properties.HttpMethod} /${pathOf(Properties.ResourceId.Ref).join('/')} → ${endpoint}`;
      },
    );
    expect(deployed.sort()).toEqual(
      routes.map((route) => `${route.method} /${route.path} → ${route.endpoint}`).sort(),
    );
    // Everything local mode serves, spelled out: userinfo by GET and POST (OpenID Connect Core §5.3.1).
    expect(deployed.sort()).toEqual(
      [
        'POST /oauth/token → token',
        'POST /oauth/revoke → revoke',
        'POST /oauth/introspect → introspect',
        'GET /userinfo → userinfo',
        'POST /userinfo → userinfo',
        'GET /.well-known/jwks.json → metadata',
        'GET /.well-known/openid-configuration → metadata',
        'GET /.well-known/oauth-authorization-server → metadata',
        'GET /mfa/authenticators → mfa-authenticators',
        'POST /mfa/associate → mfa-associate',
        'POST /mfa/challenge → mfa-challenge',
        'POST /account/delete → account-delete',
        'POST /dbconnections/change_password → change-password',
        'GET /reset-password → reset-password',
        'POST /reset-password → reset-password',
        // Sign-up, and the page its verification mail links to.
        'POST /dbconnections/signup → signup',
        'GET /verify-email → verify-email',
        // CORS preflights, answered by the same functions (never introspection, for back ends).
        'OPTIONS /oauth/token → token',
        'OPTIONS /oauth/revoke → revoke',
        'OPTIONS /userinfo → userinfo',
        'OPTIONS /.well-known/jwks.json → metadata',
        'OPTIONS /.well-known/openid-configuration → metadata',
        'OPTIONS /.well-known/oauth-authorization-server → metadata',
        'OPTIONS /mfa/authenticators → mfa-authenticators',
        'OPTIONS /mfa/associate → mfa-associate',
        'OPTIONS /mfa/challenge → mfa-challenge',
        'OPTIONS /account/delete → account-delete',
        'OPTIONS /dbconnections/change_password → change-password',
        'OPTIONS /dbconnections/signup → signup',
      ].sort(),
    );
    for (const route of routes) {
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: arnOf(endpointFunction(template, route.endpoint).logicalId),
        SourceArn: { 'Fn::Join': ['', Match.arrayWith([`/${route.method}/${route.path}`])] },
      });
    }
    template.resourceCountIs('AWS::Lambda::Permission', routes.length);
  });

  it("leaves the config's allowlisted IPs out of WAF's rate rule, as passgate's own per-IP limit does", () => {
    const { template: allowing } = synthStack({
      config: {
        ...testConfig(),
        ipThrottling: { maxFailuresPerDay: 100, allowlist: ['10.1.2.3/8', '203.0.113.7', '2001:db8::1/48'] },
      },
    });
    allowing.hasResourceProperties('AWS::WAFv2::IPSet', {
      IPAddressVersion: 'IPV4',
      Addresses: ['10.0.0.0/8', '203.0.113.7/32'],
    });
    allowing.hasResourceProperties('AWS::WAFv2::IPSet', {
      IPAddressVersion: 'IPV6',
      Addresses: ['2001:db8:0:0:0:0:0:0/48'],
    });
    const scope = new Capture();
    allowing.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({
          Statement: { RateBasedStatement: Match.objectLike({ ScopeDownStatement: scope }) },
        }),
      ]),
    });
    const [route, exemption] = scope.asObject().AndStatement.Statements;
    expect(route.RegexMatchStatement.RegexString).toBe('/oauth/token/*$');
    expect(exemption.NotStatement.Statement.OrStatement.Statements).toHaveLength(2);
  });

  it("matches the token route in WAF's rules however the path reaches it", () => {
    const pattern = new RegExp(tokenRoutePattern('/oauth/token'));
    for (const path of ['/prod/oauth/token', '/oauth/token', '/prod/oauth/token/', '/prod/oauth/token//'])
      expect(path).toMatch(pattern);
    for (const path of ['/prod/oauth/tokens', '/prod/oauth/token/x', '/prod/oauth/revoke'])
      expect(path).not.toMatch(pattern);
  });

  it('throttles the stage, traces it and writes JSON access logs without bodies or headers', () => {
    const format = new Capture();
    const destination = new Capture();
    const logGroupIds = Object.keys(template.findResources('AWS::Logs::LogGroup'));
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: true,
      MethodSettings: [
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 100,
          ThrottlingBurstLimit: 200,
          DataTraceEnabled: false,
        }),
      ],
      AccessLogSetting: {
        DestinationArn: { 'Fn::Join': ['', destination] },
        Format: format,
      },
    });
    const fields = JSON.parse(format.asString());
    expect(fields).toMatchObject({
      requestId: '$context.requestId',
      sourceIp: '$context.identity.sourceIp',
      status: '$context.status',
      resourcePath: '$context.resourcePath',
      integrationError: '$context.integration.error',
      wafStatus: '$context.waf.status',
    });
    expect(format.asString()).not.toMatch(/\$input|requestOverride|\$context\.authorizer/);
    const logGroup = (destination.asArray() as { Ref?: string }[])
      .map((part) => part.Ref)
      .find((ref) => ref !== undefined && logGroupIds.includes(ref));
    expect(template.toJSON().Resources[logGroup as string]).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 90 },
      DeletionPolicy: 'Retain',
    });
  });

  it("sets the region's API Gateway CloudWatch role, without which a stage with access logs is refused", () => {
    const account = template.findResources('AWS::ApiGateway::Account');
    expect(Object.values(account)).toHaveLength(1);
    const roleRef = Object.values(account)[0]?.Properties.CloudWatchRoleArn['Fn::GetAtt'][0] as string;
    expect(template.toJSON().Resources[roleRef]).toMatchObject({
      Type: 'AWS::IAM::Role',
      DeletionPolicy: 'Retain',
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [{ Action: 'sts:AssumeRole', Principal: { Service: 'apigateway.amazonaws.com' } }],
        },
      },
    });
    // The stage waits for the account setting, or its first deploy would fail.
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0];
    expect(JSON.stringify(stage?.DependsOn ?? [])).toMatch(/Account/);
  });

  it('answers its own refusals in the OAuth error format, never cached', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
      StatusCode: '404',
      ResponseParameters: {
        'gatewayresponse.header.Content-Type': "'application/json'",
        'gatewayresponse.header.Cache-Control': "'no-store'",
        'gatewayresponse.header.Pragma': "'no-cache'",
      },
      ResponseTemplates: {
        'application/json': '{"error":"invalid_request","error_description":"Unknown endpoint."}',
      },
    });
    // The stage's throttling is the service being busy; a web ACL block is protection against one IP.
    for (const [type, status, error, retryAfter] of [
      ['THROTTLED', '503', 'temporarily_unavailable', "'1'"],
      ['WAF_FILTERED', '429', 'too_many_attempts', "'60'"],
    ]) {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        StatusCode: status,
        ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Retry-After': retryAfter }),
        ResponseTemplates: {
          'application/json': Match.stringLikeRegexp(`^\\{"error":"${error}","error_description":.+\\}$`),
        },
      });
    }
    for (const [type, error] of [
      ['THROTTLED', 'temporarily_unavailable'],
      ['WAF_FILTERED', 'too_many_attempts'],
      ['DEFAULT_4XX', 'invalid_request'],
      ['DEFAULT_5XX', 'temporarily_unavailable'],
    ]) {
      const body = new Capture();
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: type,
        ResponseParameters: Match.objectLike({ 'gatewayresponse.header.Content-Type': "'application/json'" }),
        ResponseTemplates: { 'application/json': body },
      });
      expect(body.asString()).toMatch(new RegExp(`^\\{"error":"${error}","error_description":.+\\}$`));
    }
  });

  it("lets a page read every one of its own refusals: the request's Origin echoed, no credentials", () => {
    const responses = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse'));
    expect(responses.map(({ Properties }) => Properties.ResponseType).sort()).toEqual([
      'DEFAULT_4XX',
      'DEFAULT_5XX',
      'MISSING_AUTHENTICATION_TOKEN',
      'THROTTLED',
      'WAF_FILTERED',
    ]);
    for (const { Properties } of responses) {
      expect(Properties.ResponseParameters).toMatchObject({
        'gatewayresponse.header.Access-Control-Allow-Origin': 'method.request.header.Origin',
        'gatewayresponse.header.Access-Control-Expose-Headers': "'Retry-After, WWW-Authenticate, DPoP-Nonce'",
        'gatewayresponse.header.Vary': "'Origin'",
      });
      expect(Object.keys(Properties.ResponseParameters)).not.toContain(
        'gatewayresponse.header.Access-Control-Allow-Credentials',
      );
    }
  });

  it('changes the stage, throttling and retention through props', () => {
    const { template: custom } = synthStack({
      stageName: 'v1',
      throttling: { rateLimit: 25, burstLimit: 50 },
      logRetention: RetentionDays.ONE_YEAR,
    });
    custom.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 })],
    });
    custom.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });
});

describe('AWS WAF', () => {
  it("leaves its blocks to API Gateway's WAF_FILTERED response, which carries the CORS headers", () => {
    // A rule's custom response would take precedence over the gateway response, without CORS.
    for (const { Properties } of Object.values(template.findResources('AWS::WAFv2::WebACL'))) {
      expect(JSON.stringify(Properties)).not.toMatch(/CustomResponse/);
    }
    const { template: withAtp } = synthStack({ waf: { accountTakeoverPrevention: {} } });
    for (const { Properties } of Object.values(withAtp.findResources('AWS::WAFv2::WebACL'))) {
      expect(JSON.stringify(Properties)).not.toMatch(/CustomResponse/);
    }
  });

  /** A per-IP rate rule on `routes` (the token endpoint's limit unless said), except the allowlisted IPs again. */
  const perIpRateRule = (name: string, routes: string, limit = 300) =>
    Match.objectLike({
      Name: name,
      Action: { Block: {} },
      Statement: {
        RateBasedStatement: {
          Limit: limit,
          EvaluationWindowSec: 300,
          AggregateKeyType: 'IP',
          ScopeDownStatement: {
            AndStatement: {
              Statements: [
                { RegexMatchStatement: Match.objectLike({ RegexString: routes }) },
                { NotStatement: { Statement: { IPSetReferenceStatement: { Arn: Match.anyValue() } } } },
              ],
            },
          },
        },
      },
    });

  it('is on by default: a per-IP rate limit on the token endpoint and the IP reputation list', () => {
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Action: { Block: {} },
          Statement: {
            RateBasedStatement: {
              Limit: 300,
              EvaluationWindowSec: 300,
              AggregateKeyType: 'IP',
              // The token route, except the test config's allowlisted 192.0.2.0/24.
              ScopeDownStatement: {
                AndStatement: {
                  Statements: [
                    {
                      RegexMatchStatement: {
                        FieldToMatch: { UriPath: {} },
                        RegexString: '/oauth/token/*$',
                        TextTransformations: [
                          { Priority: 0, Type: 'URL_DECODE' },
                          { Priority: 1, Type: 'NORMALIZE_PATH' },
                        ],
                      },
                    },
                    { NotStatement: { Statement: { IPSetReferenceStatement: { Arn: Match.anyValue() } } } },
                  ],
                },
              },
            },
          },
        }),
        Match.objectLike({
          OverrideAction: { None: {} },
          Statement: {
            ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesAmazonIpReputationList' },
          },
        }),
        // The MFA API gets the same per-IP limit; the MFA grants are token requests, counted above.
        perIpRateRule('mfa-api-rate-per-ip', '(?:/mfa/authenticators|/mfa/associate|/mfa/challenge)/*$'),
        // The accounts routes check passwords or send mail: a per-IP limit of their own.
        perIpRateRule(
          'account-routes-rate-per-ip',
          '(?:/account/delete|/dbconnections/change_password|/reset-password|/dbconnections/signup|/verify-email)/*$',
          100,
        ),
      ],
    });
    const { template: stricter } = synthStack({ waf: { accountRequestsPer5MinutesPerIp: 20 } });
    stricter.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: 'account-routes-rate-per-ip',
          Statement: { RateBasedStatement: Match.objectLike({ Limit: 20 }) },
        }),
      ]),
    });
  });

  it('is associated with the API stage', () => {
    const acl = Object.keys(template.findResources('AWS::WAFv2::WebACL'))[0] as string;
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      WebACLArn: arnOf(acl),
      ResourceArn: {
        'Fn::Join': [
          '',
          Match.arrayWith([
            '::/restapis/',
            { Ref: Match.stringLikeRegexp('^TokenApi') },
            '/stages/',
            { Ref: Match.stringLikeRegexp('^TokenApiDeploymentStageprod') },
          ]),
        ],
      },
    });
  });

  it('adds account takeover prevention on the token endpoint only when asked', () => {
    expect(JSON.stringify(template.toJSON())).not.toContain('AWSManagedRulesATPRuleSet');
    const { template: atp } = synthStack({
      waf: { tokenRequestsPer5MinutesPerIp: 1000, accountTakeoverPrevention: { payloadType: 'JSON' } },
    });
    atp.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({ Statement: { RateBasedStatement: Match.objectLike({ Limit: 1000 }) } }),
        Match.objectLike({
          OverrideAction: { None: {} },
          Statement: {
            ManagedRuleGroupStatement: Match.objectLike({
              VendorName: 'AWS',
              Name: 'AWSManagedRulesATPRuleSet',
              ManagedRuleGroupConfigs: [
                {
                  AWSManagedRulesATPRuleSet: {
                    LoginPath: '/prod/oauth/token',
                    RequestInspection: {
                      PayloadType: 'JSON',
                      UsernameField: { Identifier: '/username' },
                      PasswordField: { Identifier: '/password' },
                    },
                  },
                },
              ],
              // A request without credentials is counted, never blocked by ATP.
              RuleActionOverrides: [{ Name: 'MissingCredential', ActionToUse: { Count: {} } }],
              ScopeDownStatement: {
                AndStatement: {
                  Statements: [
                    Match.objectLike({
                      RegexMatchStatement: Match.objectLike({ FieldToMatch: { UriPath: {} } }),
                    }),
                    {
                      AndStatement: {
                        Statements: [
                          {
                            ByteMatchStatement: Match.objectLike({
                              FieldToMatch: { SingleHeader: { Name: 'content-type' } },
                              PositionalConstraint: 'STARTS_WITH',
                              SearchString: 'application/json',
                            }),
                          },
                          {
                            OrStatement: {
                              Statements: [
                                'password',
                                'http://auth0.com/oauth/grant-type/password-realm',
                              ].map((grant) => ({
                                ByteMatchStatement: Match.objectLike({
                                  FieldToMatch: {
                                    JsonBody: Match.objectLike({
                                      MatchPattern: { IncludedPaths: ['/grant_type'] },
                                      MatchScope: 'VALUE',
                                    }),
                                  },
                                  PositionalConstraint: 'EXACTLY',
                                  SearchString: grant,
                                }),
                              })),
                            },
                          },
                        ],
                      },
                    },
                  ],
                },
              },
            }),
          },
        }),
      ]),
    });
  });

  it('lets account takeover prevention inspect form password grants only, never a refresh grant', () => {
    const { template: atp } = synthStack({
      waf: { tokenRequestsPer5MinutesPerIp: 300, accountTakeoverPrevention: {} },
    });
    const scopeDown = new Capture();
    atp.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({
          Statement: {
            ManagedRuleGroupStatement: Match.objectLike({
              Name: 'AWSManagedRulesATPRuleSet',
              RuleActionOverrides: [{ Name: 'MissingCredential', ActionToUse: { Count: {} } }],
              ScopeDownStatement: scopeDown,
            }),
          },
        }),
      ]),
    });
    const [, passwordGrant] = scopeDown.asObject().AndStatement.Statements;
    const [mediaType, grantType] = passwordGrant.AndStatement.Statements;
    expect(mediaType.ByteMatchStatement).toMatchObject({
      SearchString: 'application/x-www-form-urlencoded',
      TextTransformations: [{ Type: 'LOWERCASE' }],
    });
    expect(grantType.RegexMatchStatement.TextTransformations).toEqual([{ Priority: 0, Type: 'URL_DECODE' }]);
    // What WAF's regex sees: the body after URL_DECODE.
    const matches = (form: Record<string, string>) =>
      new RegExp(grantType.RegexMatchStatement.RegexString).test(
        decodeURIComponent(new URLSearchParams(form).toString()),
      );
    expect(matches({ grant_type: 'password', username: 'a', password: 'b' })).toBe(true);
    expect(
      matches({ username: 'a', grant_type: 'http://auth0.com/oauth/grant-type/password-realm', realm: 'r' }),
    ).toBe(true);
    expect(matches({ grant_type: 'refresh_token', refresh_token: 'x' })).toBe(false);
    expect(matches({ grant_type: 'password_other', username: 'grant_type=password' })).toBe(false);
  });

  it('can be switched off', () => {
    const { template: bare } = synthStack({ waf: false });
    bare.resourceCountIs('AWS::WAFv2::WebACL', 0);
    bare.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
  });
});

describe('issuer and custom domain', () => {
  it('without a custom domain, outputs the stage URL as issuer and lets functions read it from requests', () => {
    template.hasOutput(outputKeys.issuer, { Value: stageUrl() });
    template.hasOutput(outputKeys.tokenEndpoint, { Value: stageUrl('oauth/token') });
    template.hasOutput(outputKeys.jwksUri, { Value: stageUrl('.well-known/jwks.json') });
    for (const endpoint of endpointNames) {
      const variables = (endpointFunction(template, endpoint).properties.Environment as { Variables: object })
        .Variables;
      expect(variables).not.toHaveProperty(environment.issuer);
    }
  });

  it('with a custom domain, disables execute-api and fixes the issuer in every function', () => {
    const { template: custom } = synthStack({
      customDomain: {
        domainName: 'auth.example.com',
        certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab',
        hostedZone: { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com' },
      },
    });
    custom.hasResourceProperties('AWS::ApiGateway::RestApi', { DisableExecuteApiEndpoint: true });
    custom.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'auth.example.com',
      RegionalCertificateArn:
        'arn:aws:acm:eu-west-1:111122223333:certificate/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'TLS_1_2',
    });
    custom.hasResourceProperties('AWS::ApiGateway::BasePathMapping', {
      DomainName: { Ref: Match.stringLikeRegexp('^TokenApiDomain') },
      Stage: { Ref: Match.stringLikeRegexp('^TokenApiDeploymentStageprod') },
    });
    custom.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'auth.example.com.',
      Type: 'A',
      HostedZoneId: 'Z0123456789ABC',
      AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }),
    });
    custom.hasOutput(outputKeys.issuer, { Value: 'https://auth.example.com/' });
    custom.hasOutput(outputKeys.tokenEndpoint, { Value: 'https://auth.example.com/oauth/token' });
    for (const endpoint of endpointNames) {
      expect(endpointFunction(custom, endpoint).properties.Environment).toMatchObject({
        Variables: { [environment.issuer]: 'https://auth.example.com/' },
      });
    }
    custom.hasResourceProperties('AWS::WAFv2::WebACL', Match.anyValue());
  });

  it('without a hosted zone, tells where to point the CNAME', () => {
    const { template: custom } = synthStack({
      customDomain: {
        domainName: 'auth.example.com',
        certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/abc',
      },
    });
    custom.resourceCountIs('AWS::Route53::RecordSet', 0);
    custom.hasOutput('CustomDomainTarget', {
      Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TokenApiDomain'), 'RegionalDomainName'] },
    });
  });
});

describe('outputs', () => {
  it('name every table for `passgate --stack`', () => {
    for (const table of tables) {
      template.hasOutput(tableOutputKey(table.id), { Value: { Ref: tableLogicalId(template, table.id) } });
    }
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(
      [
        outputKeys.issuer,
        outputKeys.tokenEndpoint,
        outputKeys.jwksUri,
        outputKeys.counterKeySecretArn,
        ...tables.map((t) => tableOutputKey(t.id)),
      ].sort(),
    );
  });

  it("name the counters' secret for `passgate --stack`", () => {
    template.hasOutput(outputKeys.counterKeySecretArn, {
      Value: { Ref: secretLogicalId(template) },
    });
  });
});

describe('example protected API', () => {
  it('is off by default', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
  });

  it('puts GET /claims behind a JWT authorizer for the issuer and the default audience', () => {
    const { template: example } = synthStack({ exampleApi: {} });
    const authorizer = new Capture();
    example.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: stageUrl(), Audience: [API] },
    });
    example.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /claims',
      AuthorizationType: 'JWT',
      AuthorizerId: { Ref: authorizer },
    });
    expect(example.toJSON().Resources[authorizer.asString()].Type).toBe('AWS::ApiGatewayV2::Authorizer');
    example.hasOutput('ExampleApiUrl', Match.anyValue());
  });
});

describe('stack props', () => {
  it('reports every problem at once, before building anything', () => {
    let error: unknown;
    try {
      synthStack({
        signingKey: 'not a name',
        verificationKeys: ['next', 'next'],
        customDomain: { domainName: 'Auth_Example', certificateArn: 'arn:aws:iam::1:role/x' },
        waf: { tokenRequestsPer5MinutesPerIp: 5 },
        stageName: 'prod stage',
        throttling: { rateLimit: 0, burstLimit: 1.5 },
        exampleApi: { audience: 'https://unknown.example.com/' },
        bundlesDir: '/nonexistent',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StackPropsError);
    expect((error as StackPropsError).problems).toEqual([
      'signingKey: "not a name" must be 1-32 letters, digits or "-"',
      'verificationKeys[1]: key "next" is listed twice',
      'customDomain.domainName: "Auth_Example" is not a lowercase host name',
      'customDomain.certificateArn: must be the ARN of an ACM certificate',
      'waf.tokenRequestsPer5MinutesPerIp: must be a whole number from 10 (WAF minimum)',
      'stageName: "prod stage" must be letters, digits, "_" or "-"',
      'throttling.rateLimit: must be above 0',
      'throttling.burstLimit: must be a whole number above 0',
      'exampleApi.audience: "https://unknown.example.com/" is not the identifier of an API in the config',
      ...endpointNames.map(
        (endpoint) =>
          `bundlesDir: no bundle for endpoint "${endpoint}" in /nonexistent (run \`npm run build\` first)`,
      ),
    ]);
  });

  it("carries a realm's blocklist file into the functions that set passwords, and only those", () => {
    const dir = mkdtempSync(join(tmpdir(), 'passgate-blocklist-'));
    const file = join(dir, 'pwned.txt');
    // SHA-1 of "correct horse battery staple", as Pwned Passwords lists it.
    writeFileSync(file, 'BFD3617727EAB0E800E62A776C76381DEFBC4145:3\n');
    const config = testConfig();
    const { app, template } = synthStack({
      config: {
        ...config,
        realms: config.realms.map((realm, i) =>
          i === 0 ? { ...realm, passwordPolicy: { minLength: 8, blocklist: file } } : realm,
        ),
      },
    });
    const carried = (endpoint: EndpointName) => {
      const asset = endpointAssetDir(app, template, endpoint);
      const bundled = JSON.parse(readFileSync(join(asset, CONFIG_FILE_NAME), 'utf8')).realms[0].passwordPolicy
        .blocklist as string;
      return { bundled, exists: existsSync(join(asset, bundledBlocklistPath(0))), asset };
    };
    for (const endpoint of ['signup', 'reset-password'] as const) {
      const { bundled, exists, asset } = carried(endpoint);
      expect(bundled).toBe(bundledBlocklistPath(0));
      expect(exists).toBe(true);
      expect(readFileSync(join(asset, bundled), 'utf8')).toBe(readFileSync(file, 'utf8'));
    }
    expect(carried('token').exists).toBe(false);
    expect(() =>
      synthStack({
        config: {
          ...config,
          realms: config.realms.map((realm, i) =>
            i === 0
              ? { ...realm, passwordPolicy: { minLength: 8, blocklist: join(dir, 'missing.txt') } }
              : realm,
          ),
        },
      }),
    ).toThrow(`realms[0].passwordPolicy.blocklist: no file at ${join(dir, 'missing.txt')}`);
  });

  it('refuses a tenant config that does not validate', () => {
    expect(() => synthStack({ config: { ...testConfig(), defaultRealm: 'staff' } })).toThrow(ConfigError);
  });
});
