import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Capture, Template } from 'aws-cdk-lib/assertions';
import { inject } from 'vitest';
import { parseConfig } from '../../functions/config/load.ts';
import type { TenantConfigInput } from '../../functions/config/schema.ts';
import { repoRoot } from '../../functions/local/paths.ts';
import type { EndpointName } from '../../functions/routes.ts';
import { PassgateStack, type PassgateStackProps } from '../../lib/passgate-stack.ts';
import { testConfig } from './config.ts';

/** The context `npx cdk synth` gets from cdk.json (feature flags included), so tests synth alike. */
const { passgate: _settings, ...cdkJsonContext } = JSON.parse(
  readFileSync(join(repoRoot, 'cdk.json'), 'utf8'),
).context as Record<string, unknown>;

export interface SynthOptions extends Partial<Omit<PassgateStackProps, 'tenantConfig'>> {
  readonly config?: TenantConfigInput;
}

/** The stack as `npx cdk synth` builds it, from the real bundles of this test run. */
export function synthStack(options: SynthOptions = {}) {
  const { config, ...props } = options;
  const app = new App({ context: cdkJsonContext });
  const stack = new PassgateStack(app, 'Passgate', {
    tenantConfig: parseConfig(config ?? testConfig()),
    bundlesDir: inject('bundlesDir'),
    ...props,
  });
  const template = Template.fromStack(stack);
  return { app, stack, template };
}

/** The logical id and properties of an endpoint's Lambda function, found by its description. */
export function endpointFunction(template: Template, endpoint: EndpointName) {
  const found = Object.entries(
    template.findResources('AWS::Lambda::Function', {
      Properties: { Description: `passgate: ${endpoint} endpoint` },
    }),
  );
  if (found.length !== 1) throw new Error(`expected one function for ${endpoint}, found ${found.length}`);
  const [logicalId, resource] = found[0] as [string, { Properties: Record<string, unknown> }];
  return { logicalId, properties: resource.Properties };
}

/** Where the synthesized asset of an endpoint's function lies in the cloud assembly. */
export function endpointAssetDir(app: App, template: Template, endpoint: EndpointName): string {
  const key = new Capture();
  template.hasResourceProperties('AWS::Lambda::Function', {
    Description: `passgate: ${endpoint} endpoint`,
    Code: { S3Key: key },
  });
  return join(app.outdir, `asset.${key.asString().replace(/\.zip$/, '')}`);
}
