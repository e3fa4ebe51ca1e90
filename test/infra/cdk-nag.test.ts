import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { type SynthOptions, synthStack } from '../helpers/stack.ts';

const EVERYTHING_ON: SynthOptions = {
  verificationKeys: ['next'],
  customDomain: {
    domainName: 'auth.example.com',
    certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab',
    hostedZone: { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com' },
  },
  waf: { accountTakeoverPrevention: { payloadType: 'FORM_ENCODED' } },
  exampleApi: {},
};

function findings(app: App) {
  return new AwsSolutionsChecks(undefined, { verbose: true })
    .validateScope(app)
    .violations.map((violation) => ({
      rule: violation.ruleName,
      severity: violation.severity,
      resources: violation.violatingResources.map((resource) => resource.constructPath),
    }));
}

/** Every acknowledged finding in the tree: where, which rule, and why. */
function acknowledgments(scope: IConstruct): { path: string; id: string; reason: string }[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

// Loading every rule pack and the aws-cdk-lib modules they check takes a while on first use.
describe('cdk-nag AWS Solutions checks', { timeout: 120_000 }, () => {
  it.each([
    ['the default stack', {}],
    ['every option on', EVERYTHING_ON],
  ])('find nothing unacknowledged in %s', (_name, options) => {
    const { app } = synthStack(options);
    expect(findings(app)).toEqual([]);
  });

  it('acknowledge only what is so by design, each with its reason', () => {
    const { app } = synthStack(EVERYTHING_ON);
    const acknowledged = acknowledgments(app);
    for (const { reason } of acknowledged) expect(reason.length).toBeGreaterThan(40);
    expect([...new Set(acknowledged.map(({ path, id }) => `${id} @ ${path}`))].sort()).toEqual(
      [
        'AwsSolutions-APIG2 @ Passgate/TokenApi/Api',
        'AwsSolutions-APIG4 @ Passgate/TokenApi/Api',
        'AwsSolutions-APIG6 @ Passgate/TokenApi/Api',
        'AwsSolutions-COG4 @ Passgate/TokenApi/Api',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs] @ Passgate/TokenApi/Api/CloudWatchRole',
        'AwsSolutions-IAM5[Resource::*] @ Passgate/Endpoint-account-delete/Role',
        'AwsSolutions-IAM5[Resource::*] @ Passgate/Endpoint-change-password/Role',
        'AwsSolutions-IAM5[Resource::*] @ Passgate/Endpoint-introspect/Role',
        'AwsSolutions-IAM5[Resource::*] @ Passgate/Endpoint-metadata/Role',
        'AwsSolutions-IAM5[Resource::*] @ Passgate/Endpoint-mfa-associate/Role',
        'AwsSolutions-IAM5[Resource::*] @ Passgate/Endpoint-mfa-authenticators/Role',
        'AwsSolutions-IAM5[Resource::*] @ Passgate/Endpoint-mfa-challenge/Role',
        'AwsSolutions-IAM5[Resource::*] @ Passgate/Endpoint-reset-password/Role',
        'AwsSolutions-IAM5[Resource::*] @ Passgate/Endpoint-revoke/Role',
        'AwsSolutions-IAM5[Resource::*] @ Passgate/Endpoint-signup/Role',
        'AwsSolutions-IAM5[Resource::*] @ Passgate/Endpoint-token/Role',
        'AwsSolutions-IAM5[Resource::*] @ Passgate/Endpoint-userinfo/Role',
        'AwsSolutions-IAM5[Resource::*] @ Passgate/Endpoint-verify-email/Role',
        'AwsSolutions-IAM5[Resource::*] @ Passgate/ExampleApi/Echo/Role',
        'AwsSolutions-SMG4 @ Passgate/CounterHashKey/Secret',
      ].sort(),
    );
  });

  it('flag a stage without WAF when it is switched off', () => {
    const { app } = synthStack({ waf: false });
    expect(findings(app)).toEqual([
      {
        rule: 'AwsSolutions-APIG3',
        severity: 'warning',
        resources: [expect.stringMatching(/^Passgate\/TokenApi\/Api\/DeploymentStage/)],
      },
    ]);
  });
});
