/**
 * The CDK app (cdk.json "app"): the tenant config file (PASSGATE_CONFIG, as in local mode) and the
 * deployment settings in cdk.json → the passgate stack, checked by cdk-nag's AWS Solutions rules.
 * A bad config or setting stops synth with one line per problem, never a stack trace; so does a
 * config that still holds the example's values, unless `-c demo=true` says it is a demo.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../functions/config/config-file.ts';
import { loadConfigFile } from '../functions/config/load.ts';
import { localPaths } from '../functions/local/paths.ts';
import { DEMO_CONTEXT_KEY, ExampleValuesError, exampleValues } from '../lib/example-values.ts';
import { PassgateStack, StackPropsError } from '../lib/passgate-stack.ts';
import { deploymentSettings, SETTINGS_CONTEXT_KEY } from '../lib/settings.ts';

const app = new App();
try {
  const { configPath } = localPaths();
  const tenantConfig = loadConfigFile(configPath);
  const settings = deploymentSettings(app.node.tryGetContext(SETTINGS_CONTEXT_KEY));
  const demo = [true, 'true'].includes(app.node.tryGetContext(DEMO_CONTEXT_KEY));
  const examples = demo ? [] : exampleValues(tenantConfig, settings);
  if (examples.length > 0) throw new ExampleValuesError(configPath, examples);
  const { stackName, props } = settings;
  new PassgateStack(app, stackName, {
    ...props,
    tenantConfig,
    description:
      'passgate: OAuth 2.0 authorization server (password grants) on API Gateway, Lambda, DynamoDB, KMS',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  app.synth();
} catch (error) {
  const known =
    error instanceof ConfigError || error instanceof StackPropsError || error instanceof ExampleValuesError;
  if (!known) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
