import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, CfnOutput, Fn, Stack, type StackProps, Token, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { parseConfig } from '../functions/config/load.ts';
import type { TenantConfig } from '../functions/config/schema.ts';
import {
  environment,
  MAX_BUNDLED_BLOCKLIST_BYTES,
  outputKeys,
  type TableId,
  tableEnvironmentVariable,
  tableOutputKey,
} from '../functions/deployment.ts';
import { type EndpointNeeds, endpointNeeds } from '../functions/endpoint-needs.ts';
import { accountEndpoints, type EndpointName, endpoints, type Route, routes } from '../functions/routes.ts';
import { tables as tableDefinitions } from '../functions/store-schema.ts';
import { CounterHashKey } from './constructs/counter-hash-key.ts';
import { ExampleApi } from './constructs/example-api.ts';
import { MfaKey } from './constructs/mfa-key.ts';
import { bundleWithConfig, PassgateFunction } from './constructs/passgate-function.ts';
import { SigningKeys, WrappedSigningKeys } from './constructs/signing-keys.ts';
import { type CustomDomainProps, TokenApi } from './constructs/token-api.ts';
import { UserDirectory } from './constructs/user-directory.ts';
import { type AccountTakeoverPreventionProps, WebAcl } from './constructs/web-acl.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export type { CustomDomainProps } from './constructs/token-api.ts';
export type { AccountTakeoverPreventionProps } from './constructs/web-acl.ts';

export interface WafProps {
  /**
   * Requests one IP may send to the token endpoint in any 5 minutes before WAF blocks it. Mobile
   * carriers put many users behind one IP, so this stops floods, not individual users; passgate's
   * own per-user and per-IP failure limits do the fine work behind it.
   * @default 300
   */
  readonly tokenRequestsPer5MinutesPerIp?: number;
  /**
   * AWS WAF Fraud Control account takeover prevention on the token endpoint (stolen-credential
   * lists, volumetric login anomalies). Billed per subscription and per login request inspected.
   * @default off
   */
  readonly accountTakeoverPrevention?: AccountTakeoverPreventionProps;
  /**
   * Requests one IP may send to the sign-up route and the verification page in any 5 minutes
   * before WAF blocks it; passgate's own `signup.maxPerIpPerHour` does the fine work behind it.
   * @default 100
   */
  readonly accountRequestsPer5MinutesPerIp?: number;
}

export interface ThrottlingProps {
  /** Steady-state requests per second across the stage. */
  readonly rateLimit: number;
  /** Requests allowed in a burst above the rate. */
  readonly burstLimit: number;
}

export interface ExampleApiProps {
  /**
   * The API identifier (`aud`) the example API accepts.
   * @default the tenant's `defaultAudience`
   */
  readonly audience?: string;
}

export interface PassgateStackProps extends StackProps {
  /** The tenant configuration (passgate.config.json), as the local server uses it. */
  readonly tenantConfig: TenantConfig;
  /**
   * Where `npm run build` wrote the function bundles.
   * @default `dist/functions` at the repository root
   */
  readonly bundlesDir?: string;
  /**
   * Name of the KMS key that signs new tokens (letters, digits, "-"). Renaming it creates a new key.
   * @default 'initial'
   */
  readonly signingKey?: string;
  /**
   * Names of further keys published in the JWKS that do not sign: the next key before it takes
   * over, and the previous one until the tokens it signed have expired (docs/operating.md, "Rotating the signing key").
   * @default none
   */
  readonly verificationKeys?: readonly string[];
  /**
   * Serve the API on your own domain; the issuer becomes `https://<domainName>/` and the
   * execute-api URL is disabled, so every token carries the same issuer.
   * @default the stage's execute-api URL is the issuer
   */
  readonly customDomain?: CustomDomainProps;
  /**
   * The AWS WAF web ACL on the stage; `false` removes it.
   * @default on, 300 token requests per IP per 5 minutes, IP reputation list, no ATP
   */
  readonly waf?: WafProps | false;
  /**
   * The API Gateway stage; part of the issuer when there is no custom domain.
   * @default 'prod'
   */
  readonly stageName?: string;
  /**
   * Stage-wide throttling: what the account's Lambda concurrency should sustain. 100 logins a
   * second at about 100 ms of argon2id each is about 10 busy function instances.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly throttling?: ThrottlingProps;
  /**
   * Retention of access logs and function logs (they hold IP addresses: personal data).
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /**
   * An example HTTP API protected by a passgate JWT authorizer, echoing the verified claims.
   * @default none
   */
  readonly exampleApi?: ExampleApiProps;
}

/** Props that cannot work together, one line per problem, all reported at once. */
export class StackPropsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`${problems.length} problem(s) in the passgate stack settings:\n  ${problems.join('\n  ')}`);
    this.name = 'StackPropsError';
  }
}

const KEY_NAME = /^[A-Za-z0-9-]{1,32}$/;
const HOSTNAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const known = (value: string | undefined): value is string =>
  value !== undefined && !Token.isUnresolved(value);

/** Every problem with the props, before any resource is built. */
function problemsWith(props: PassgateStackProps, bundlesDir: string): string[] {
  const problems: string[] = [];
  const signingKey = props.signingKey ?? 'initial';
  const keyNames = [signingKey, ...(props.verificationKeys ?? [])];
  keyNames.forEach((name, i) => {
    const field = i === 0 ? 'signingKey' : `verificationKeys[${i - 1}]`;
    if (!KEY_NAME.test(name)) problems.push(`${field}: "${name}" must be 1-32 letters, digits or "-"`);
    else if (keyNames.indexOf(name) !== i) problems.push(`${field}: key "${name}" is listed twice`);
  });
  const domain = props.customDomain;
  if (domain) {
    if (known(domain.domainName) && !HOSTNAME.test(domain.domainName)) {
      problems.push(`customDomain.domainName: "${domain.domainName}" is not a lowercase host name`);
    }
    if (
      known(domain.certificateArn) &&
      !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\//.test(domain.certificateArn)
    ) {
      problems.push('customDomain.certificateArn: must be the ARN of an ACM certificate');
    }
    const zone = domain.hostedZone;
    if (zone && known(zone.zoneName) && known(domain.domainName)) {
      const zoneName = zone.zoneName.replace(/\.$/, '');
      if (domain.domainName !== zoneName && !domain.domainName.endsWith(`.${zoneName}`)) {
        problems.push(
          `customDomain.hostedZone.zoneName: "${zoneName}" does not contain ${domain.domainName}`,
        );
      }
    }
  }
  if (props.waf) {
    for (const name of ['tokenRequestsPer5MinutesPerIp', 'accountRequestsPer5MinutesPerIp'] as const) {
      const limit = props.waf[name];
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 10 || limit > 2_000_000_000)) {
        problems.push(`waf.${name}: must be a whole number from 10 (WAF minimum)`);
      }
    }
  }
  const stageName = props.stageName ?? 'prod';
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(stageName)) {
    problems.push(`stageName: "${stageName}" must be letters, digits, "_" or "-"`);
  }
  if (props.throttling) {
    const { rateLimit, burstLimit } = props.throttling;
    if (!(rateLimit > 0)) problems.push('throttling.rateLimit: must be above 0');
    if (!Number.isInteger(burstLimit) || burstLimit < 1) {
      problems.push('throttling.burstLimit: must be a whole number above 0');
    }
  }
  const audience = props.exampleApi?.audience;
  if (audience !== undefined && !props.tenantConfig.apis.some((api) => api.identifier === audience)) {
    problems.push(`exampleApi.audience: "${audience}" is not the identifier of an API in the config`);
  }
  props.tenantConfig.realms.forEach((realm, i) => {
    const file = realm.passwordPolicy.blocklist;
    if (file === undefined) return;
    const size = existsSync(file) ? statSync(file).size : undefined;
    if (size === undefined) {
      problems.push(`realms[${i}].passwordPolicy.blocklist: no file at ${file}`);
    } else if (size > MAX_BUNDLED_BLOCKLIST_BYTES) {
      problems.push(
        `realms[${i}].passwordPolicy.blocklist: ${file} is ${Math.ceil(size / 2 ** 20)} MiB; the functions that set passwords carry it, and hold at most ${MAX_BUNDLED_BLOCKLIST_BYTES / 2 ** 20} MiB of it (take the most common part of the list)`,
      );
    }
  });
  for (const endpoint of Object.keys(endpoints)) {
    if (!existsSync(join(bundlesDir, endpoint, 'index.mjs'))) {
      problems.push(
        `bundlesDir: no bundle for endpoint "${endpoint}" in ${bundlesDir} (run \`npm run build\` first)`,
      );
    }
  }
  return problems;
}

/**
 * passgate on AWS: API Gateway (REST, regional, WAF) → one Lambda function per endpoint →
 * DynamoDB tables, KMS signing keys and the brute-force counters' secret. Endpoints, routes and tables come from functions/ (routes.ts,
 * endpoint-needs.ts, store-schema.ts), so new ones are deployed without touching this file.
 */
export class PassgateStack extends Stack {
  /** `https://…/`, with the trailing slash. */
  readonly issuer: string;
  readonly tokenApi: TokenApi;
  readonly functions: ReadonlyMap<EndpointName, IFunction>;

  constructor(scope: Construct, id: string, props: PassgateStackProps) {
    super(scope, id, props);
    const tenantConfig = parseConfig(props.tenantConfig, 'tenantConfig');
    const bundlesDir = resolve(props.bundlesDir ?? join(repoRoot, 'dist', 'functions'));
    const problems = problemsWith(props, bundlesDir);
    if (problems.length > 0) throw new StackPropsError(problems);
    const logRetention = props.logRetention ?? RetentionDays.THREE_MONTHS;
    const stageName = props.stageName ?? 'prod';

    const directory = new UserDirectory(this, 'UserDirectory');
    const keyNames = { current: props.signingKey ?? 'initial', verification: props.verificationKeys ?? [] };
    // One set of keys per signing mode (docs/operating.md compares them); the names are the same.
    const wrapped =
      tenantConfig.signing.mode === 'kms-wrapped'
        ? new WrappedSigningKeys(this, 'WrappedSigningKeys', keyNames)
        : undefined;
    const keys = wrapped ? undefined : new SigningKeys(this, 'SigningKeys', keyNames);
    const counterKey = new CounterHashKey(this, 'CounterHashKey');
    const mfaKey = new MfaKey(this, 'MfaKey').key;

    const mailIdentityArn = tenantConfig.email ? this.sesIdentityArn(tenantConfig.email.from) : undefined;
    const functions = new Map<EndpointName, PassgateFunction>();
    for (const endpoint of Object.keys(endpoints) as EndpointName[]) {
      const needs: EndpointNeeds = endpointNeeds[endpoint];
      const fn = new PassgateFunction(this, `Endpoint-${endpoint}`, {
        code: bundleWithConfig(join(bundlesDir, endpoint), tenantConfig, needs.setsPasswords),
        memoryMiB: needs.memoryMiB,
        logRetention,
        description: `${endpoint} endpoint`,
        environment: {
          ...Object.fromEntries(
            [...directory.tables].map(([tableId, table]) => [
              tableEnvironmentVariable(tableId),
              table.tableName,
            ]),
          ),
          ...(keys ? kmsKeysEnvironment(keys) : {}),
          ...(wrapped
            ? {
                [environment.wrappingKeyId]: wrapped.wrappingKey.keyArn,
                [environment.signingKeyName]: keyNames.current,
                ...(keyNames.verification.length > 0
                  ? { [environment.verificationKeyNames]: keyNames.verification.join(',') }
                  : {}),
              }
            : {}),
          ...(props.customDomain
            ? { [environment.issuer]: `https://${props.customDomain.domainName}/` }
            : {}),
          ...(needs.counterHashKey ? { [environment.counterKeySecretArn]: counterKey.secret.secretArn } : {}),
          ...(needs.mfaKey.length > 0 ? { [environment.mfaKeyId]: mfaKey.keyArn } : {}),
          ...(needs.mail && mailIdentityArn ? { [environment.mailIdentityArn]: mailIdentityArn } : {}),
        },
      });
      grantNeeds(fn, needs, directory.tables, keys, counterKey.secret, mfaKey, mailIdentityArn);
      wrapped?.grant(fn.role, needs.signingKeys, directory.tables.get('signing-keys') as ITable);
      functions.set(endpoint, fn);
    }
    this.functions = new Map([...functions].map(([name, fn]) => [name, fn.function]));

    this.tokenApi = new TokenApi(this, 'TokenApi', {
      routes,
      functions: this.functions,
      stageName,
      throttling: props.throttling ?? { rateLimit: 100, burstLimit: 200 },
      logRetention,
      ...(props.customDomain ? { customDomain: props.customDomain } : {}),
    });
    this.issuer = this.tokenApi.issuer;

    if (props.waf !== false) {
      const tokenRoute = `/${tokenRouteOf(routes).path}`;
      new WebAcl(this, 'WebAcl', {
        stageArn: this.tokenApi.api.deploymentStage.stageArn,
        tokenPath: props.customDomain ? tokenRoute : `/${stageName}${tokenRoute}`,
        tokenRoute,
        // Each path once: the rule matches the path whatever the method, preflights included.
        mfaRoutes: [
          ...new Set(
            routes.filter((route) => route.endpoint.startsWith('mfa-')).map((route) => `/${route.path}`),
          ),
        ],
        tokenRequestsPer5MinutesPerIp: props.waf?.tokenRequestsPer5MinutesPerIp ?? 300,
        accountRoutes: [
          ...new Set(
            routes
              .filter((route) => accountEndpoints.includes(route.endpoint))
              .map((route) => `/${route.path}`),
          ),
        ],
        accountRequestsPer5MinutesPerIp: props.waf?.accountRequestsPer5MinutesPerIp ?? 100,
        rateExempt: tenantConfig.ipThrottling.allowlist,
        ...(props.waf?.accountTakeoverPrevention
          ? { accountTakeoverPrevention: props.waf.accountTakeoverPrevention }
          : {}),
      });
    }

    if (props.exampleApi) {
      const example = new ExampleApi(this, 'ExampleApi', {
        issuer: this.issuer,
        audience: props.exampleApi.audience ?? tenantConfig.defaultAudience,
        logRetention,
      });
      // The authorizer reads the discovery document: the token API must be live first.
      example.node.addDependency(this.tokenApi.api.deploymentStage);
      new CfnOutput(this, 'ExampleApiUrl', {
        value: `${example.api.apiEndpoint}/claims`,
        description: 'GET with a passgate access token: echoes the verified claims',
      });
    }

    this.outputs(directory, counterKey, props.customDomain);
    this.suppressFindings();
  }

  private outputs(
    directory: UserDirectory,
    counterKey: CounterHashKey,
    customDomain: CustomDomainProps | undefined,
  ) {
    new CfnOutput(this, outputKeys.issuer, { value: this.issuer, description: 'OAuth 2.0 issuer (iss)' });
    new CfnOutput(this, outputKeys.tokenEndpoint, { value: `${this.issuer}oauth/token` });
    new CfnOutput(this, outputKeys.jwksUri, { value: `${this.issuer}.well-known/jwks.json` });
    for (const [tableId, table] of directory.tables) {
      new CfnOutput(this, tableOutputKey(tableId), {
        value: table.tableName,
        description: `DynamoDB table "${tableId}" (used by \`passgate --stack\`)`,
      });
    }
    new CfnOutput(this, outputKeys.counterKeySecretArn, {
      value: counterKey.secret.secretArn,
      description: 'Secret keying the brute-force counters (read by `passgate --stack` to unblock users)',
    });
    if (customDomain && this.tokenApi.domain && !customDomain.hostedZone) {
      new CfnOutput(this, 'CustomDomainTarget', {
        value: this.tokenApi.domain.domainNameAliasDomainName,
        description: `Point a CNAME for ${customDomain.domainName} here`,
      });
    }
  }

  /**
   * The SES identity passgate sends as: the domain of the config's `email.from`, which the operator
   * verifies in SES (docs/deploying.md). Sending as any other identity is refused by IAM.
   */
  private sesIdentityArn(from: string): string {
    return this.formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: from.slice(from.lastIndexOf('@') + 1).toLowerCase(),
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /** cdk-nag findings that are so by design, each with its reason. */
  private suppressFindings() {
    Validations.of(this.tokenApi.api).acknowledge(
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'Public by design: the token endpoint authenticates clients itself (RFC 6749 §2.3) and the discovery documents and JWKS are public (OpenID Connect Discovery §4); CORS preflights (OPTIONS) never carry credentials (Fetch standard).',
      },
      {
        id: 'AwsSolutions-COG4',
        reason:
          'passgate is the authorization server; a Cognito authorizer in front of it would be circular.',
      },
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'The functions validate every request (form or JSON bodies, RFC 6749 §3.2) and answer in the OAuth error format; API Gateway models cannot express form bodies.',
      },
      {
        id: 'AwsSolutions-APIG6',
        reason:
          'JSON access logs record every request with status, latencies and integration errors; execution logs would also log request data that passgate keeps out of every log.',
      },
    );
    const cloudWatchRole = this.tokenApi.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's region-wide CloudWatch role, needed before any REST API stage may write access logs; AWS documents exactly this managed policy for it.",
      });
    }
  }
}

/** The `kms` mode's keys, by ARN: the one that signs, and the others the JWKS publishes. */
function kmsKeysEnvironment(keys: SigningKeys): Record<string, string> {
  return {
    [environment.signingKeyId]: keys.current.keyArn,
    ...(keys.all.length > 1
      ? {
          [environment.verificationKeyIds]: Fn.join(
            ',',
            keys.all.slice(1).map((key) => key.keyArn),
          ),
        }
      : {}),
  };
}

function tokenRouteOf(all: readonly Route[]): Route {
  const route = all.find((candidate) => candidate.endpoint === 'token' && candidate.method === 'POST');
  if (!route) throw new Error('routes.ts has no POST route to the token endpoint');
  return route;
}

/** The IAM statements an endpoint's declaration asks for, and nothing else. */
function grantNeeds(
  fn: PassgateFunction,
  needs: EndpointNeeds,
  tables: ReadonlyMap<TableId, { tableArn: string }>,
  keys: SigningKeys | undefined,
  counterKeySecret: ISecret,
  mfaKey: Key,
  mailIdentityArn: string | undefined,
) {
  for (const [tableId, actions] of Object.entries(needs.tables) as [TableId, readonly string[]][]) {
    const table = tables.get(tableId);
    if (!table) throw new Error(`endpoint-needs.ts names an unknown table "${tableId}"`);
    // Query and Scan reach the indexes the endpoint names, each by name: no wildcard.
    const defined = tableDefinitions.find((definition) => definition.id === tableId)?.globalIndexes ?? [];
    const indexes = (needs.indexes?.[tableId] ?? []).map((name) => {
      if (!defined.some((index) => index.indexName === name)) {
        throw new Error(`endpoint-needs.ts names an unknown index "${name}" of table "${tableId}"`);
      }
      return `${table.tableArn}/index/${name}`;
    });
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: actions.map((action) => `dynamodb:${action}`),
        resources: [table.tableArn, ...indexes],
      }),
    );
  }
  if (keys && needs.signingKeys.includes('sign')) {
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['kms:Sign'],
        // Every key of the stack, not only the current one: while a key rotation deploys
        // (docs/operating.md, "Rotating the signing key"), CloudFormation updates this policy before the
        // function, and warm instances still sign with the outgoing key, which stays listed as a
        // verification key for exactly that step.
        resources: keys.all.map((key) => key.keyArn),
        // Only RS256 over a precomputed digest: the one way KmsSigner signs.
        conditions: {
          StringEquals: { 'kms:SigningAlgorithm': 'RSASSA_PKCS1_V1_5_SHA_256', 'kms:MessageType': 'DIGEST' },
        },
      }),
    );
  }
  const publicKeys = keys && needs.signingKeys.length > 0 ? keys.all : [];
  if (publicKeys.length > 0) {
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['kms:GetPublicKey'], resources: publicKeys.map((key) => key.keyArn) }),
    );
  }
  if (needs.mfaKey.length > 0) {
    // Not `grantEncrypt`/`grantDecrypt`: those add ReEncrypt* and GenerateDataKey*, never called.
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: needs.mfaKey.map((use) => (use === 'encrypt' ? 'kms:Encrypt' : 'kms:Decrypt')),
        resources: [mfaKey.keyArn],
      }),
    );
  }
  if (needs.mail && mailIdentityArn) {
    // The configured identity only: a leaked function role cannot send as any other.
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['ses:SendEmail'], resources: [mailIdentityArn] }),
    );
  }
  if (needs.counterHashKey) {
    // Not `grantRead`: that adds DescribeSecret, which the function never calls.
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [counterKeySecret.secretArn],
      }),
    );
  }
}
