import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { problemsOf } from '../functions/config/load.ts';
import { type PassgateStackProps, StackPropsError } from './passgate-stack.ts';

/** The CDK context key (cdk.json `context`, or `-c passgate='{…}'`) holding the deployment settings. */
export const SETTINGS_CONTEXT_KEY = 'passgate';

const retentionDays = new Set<number>(
  Object.values(RetentionDays).filter((value): value is number => typeof value === 'number'),
);

/**
 * The deployment settings: the stack's props as JSON, so operators change cdk.json rather than
 * code. Unknown keys are refused (a typo must not silently fall back to a default).
 */
const settingsSchema = z.strictObject({
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'must start with a letter; letters, digits and "-" only')
    .default('Passgate'),
  signingKey: z.string().optional(),
  verificationKeys: z.array(z.string()).optional(),
  customDomain: z
    .strictObject({
      domainName: z.string(),
      certificateArn: z.string(),
      hostedZone: z.strictObject({ hostedZoneId: z.string(), zoneName: z.string() }).optional(),
    })
    .optional(),
  waf: z
    .union([
      z.literal(false),
      z.strictObject({
        tokenRequestsPer5MinutesPerIp: z.number().optional(),
        accountRequestsPer5MinutesPerIp: z.number().optional(),
        accountTakeoverPrevention: z
          .strictObject({ payloadType: z.enum(['FORM_ENCODED', 'JSON']).optional() })
          .optional(),
      }),
    ])
    .optional(),
  stageName: z.string().optional(),
  throttling: z.strictObject({ rateLimit: z.number(), burstLimit: z.number() }).optional(),
  logRetentionDays: z
    .number()
    .refine(
      (days) => retentionDays.has(days),
      'must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, …)',
    )
    .optional(),
  exampleApi: z.union([z.boolean(), z.strictObject({ audience: z.string().optional() })]).optional(),
});

export type DeploymentSettings = z.input<typeof settingsSchema>;

export interface ResolvedSettings {
  readonly stackName: string;
  readonly props: Omit<PassgateStackProps, 'tenantConfig'>;
}

/** Reads the settings from the CDK context; every problem is reported at once. */
export function deploymentSettings(context: unknown): ResolvedSettings {
  let document = context ?? {};
  if (typeof document === 'string') {
    try {
      document = JSON.parse(document);
    } catch {
      throw new StackPropsError([`context "${SETTINGS_CONTEXT_KEY}": not valid JSON`]);
    }
  }
  const result = settingsSchema.safeParse(document);
  if (!result.success) throw new StackPropsError(problemsOf(result.error));
  const { stackName, logRetentionDays, exampleApi, ...rest } = result.data;
  return {
    stackName,
    props: {
      ...rest,
      ...(logRetentionDays !== undefined ? { logRetention: logRetentionDays as RetentionDays } : {}),
      ...(exampleApi ? { exampleApi: exampleApi === true ? {} : exampleApi } : {}),
    },
  };
}
