import { ConfigError, deepFreeze, readConfigDocument } from './config-file.ts';
import { crossReferenceProblems, type TenantConfig, tenantConfigSchema } from './schema.ts';

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
}

/** One line per problem of a failed zod parse, each naming its field (`clients[1].realms[0]: …`). */
export function problemsOf(error: { issues: readonly { path: PropertyKey[]; message: string }[] }): string[] {
  return error.issues.map((issue) => `${formatPath(issue.path) || '(root)'}: ${issue.message}`);
}

/**
 * Validates a parsed config document, reporting every problem at once; the result is deep-frozen.
 * The one validation of the tenant config: the CLI, the local server and the stack (at synth) call
 * it; the Lambda functions read its output (config-file.ts).
 */
export function parseConfig(document: unknown, source = 'config'): TenantConfig {
  const result = tenantConfigSchema.safeParse(document);
  const problems = problemsOf({
    issues: [...(result.error?.issues ?? []), ...crossReferenceProblems(document)],
  });
  if (!result.success || problems.length > 0) throw new ConfigError(source, problems);
  return deepFreeze(result.data);
}

export function loadConfigFile(path: string): TenantConfig {
  return parseConfig(readConfigDocument(path), path);
}
