import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  Code,
  Function as LambdaFunction,
  LoggingFormat,
  Runtime,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { TenantConfig } from '../../functions/config/schema.ts';
import { bundledBlocklistPath, CONFIG_FILE_NAME, lambdaPlatform } from '../../functions/deployment.ts';
import { FUNCTION_TIMEOUT_SECONDS } from '../../functions/runtime/aws-services.ts';

export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;
export const LAMBDA_ARCHITECTURE =
  lambdaPlatform.architecture === 'arm64' ? Architecture.ARM_64 : Architecture.X86_64;

/**
 * A bundle folder that `npm run build` wrote (index.mjs, its chunks, their source maps,
 * node_modules) plus the tenant config beside it: `tenantConfig` is `parseConfig`'s output, which
 * the functions take as it is at cold start (functions/config/config-file.ts). With
 * `withBlocklists`, each realm's `passwordPolicy.blocklist` file is copied in as well and the
 * config names the copy by its path in the bundle (bundledBlocklistPath). Staged by plain file
 * copies, so synth needs no Docker; the asset hash covers the copy, config and lists included.
 */
export function bundleWithConfig(
  bundleDir: string,
  tenantConfig: TenantConfig,
  withBlocklists: boolean,
): Code {
  const blocklists = withBlocklists
    ? tenantConfig.realms.flatMap((realm, index) =>
        realm.passwordPolicy.blocklist
          ? [{ index, source: realm.passwordPolicy.blocklist, target: bundledBlocklistPath(index) }]
          : [],
      )
    : [];
  const config: TenantConfig = {
    ...tenantConfig,
    realms: tenantConfig.realms.map((realm, index) => {
      const copy = blocklists.find((list) => list.index === index);
      return copy ? { ...realm, passwordPolicy: { ...realm.passwordPolicy, blocklist: copy.target } } : realm;
    }),
  };
  const configJson = JSON.stringify(config);
  return Code.fromAsset(bundleDir, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling below always succeeds.
      image: DockerImage.fromRegistry('passgate/no-docker-needed'),
      local: {
        tryBundle(outputDir) {
          cpSync(bundleDir, outputDir, { recursive: true });
          for (const list of blocklists) cpSync(list.source, join(outputDir, list.target));
          writeFileSync(join(outputDir, CONFIG_FILE_NAME), configJson);
          return true;
        },
      },
    },
  });
}

export interface PassgateFunctionProps {
  readonly code: Code;
  readonly memoryMiB: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  readonly description: string;
}

/**
 * The house defaults for a passgate Lambda function: Node.js 24 on arm64, JSON logs in a log group with a retention, X-Ray tracing, and a
 * role that starts empty (no managed policies) so that each grant on it is deliberate.
 */
export class PassgateFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: PassgateFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `passgate ${Stack.of(this).stackName}: ${props.description}`,
    });
    // What AWSLambdaBasicExecutionRole grants, on this function's log group only.
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.function = new LambdaFunction(this, 'Function', {
      description: `passgate: ${props.description}`,
      runtime: LAMBDA_RUNTIME,
      architecture: LAMBDA_ARCHITECTURE,
      handler: 'index.handler',
      code: props.code,
      memorySize: props.memoryMiB,
      timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS),
      role: this.role,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      tracing: Tracing.ACTIVE,
      // No NODE_OPTIONS=--enable-source-maps: Node would read and parse every source map at each
      // cold start (measured +15-25 ms of CPU for the token function). The maps ship in the asset,
      // to resolve a logged stack trace offline.
      environment: { ...props.environment },
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
    });
  }
}
