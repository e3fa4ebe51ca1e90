/**
 * The CDK app (cdk.json "app"): the tenant config file (PASSGATE_CONFIG, as in local mode) and the
 * deployment settings in cdk.json → the passgate stack, checked by cdk-nag's AWS Solutions rules.
 * A bad config or setting stops synth with one line per problem, never a stack trace.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../functions/config/config-file.ts';
import { loadConfigFile } from '../functions/config/load.ts';
import { localPaths } from '../functions/local/paths.ts';
import { PassgateStack, StackPropsError } from '../lib/passgate-stack.ts';
import { deploymentSettings, SETTINGS_CONTEXT_KEY } from '../lib/settings.ts';

const app = new App();
try {
  const tenantConfig = loadConfigFile(localPaths().configPath);
  const { stackName, props } = deploymentSettings(app.node.tryGetContext(SETTINGS_CONTEXT_KEY));
  new PassgateStack(app, stackName, {
    ...props,
    tenantConfig,
    description:
      'passgate: OAuth 2.0 authorization server (password grants) on API Gateway, Lambda, DynamoDB, KMS',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  app.synth();
} catch (error) {
  if (!(error instanceof ConfigError || error instanceof StackPropsError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
