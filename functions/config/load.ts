import { readFileSync } from 'node:fs';
import { crossReferenceProblems, type TenantConfig, tenantConfigSchema } from './schema.ts';

/** A config that cannot be used, with one line per problem, each naming its field. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      `${source}: ${problems.length} problem(s) in the passgate configuration:\n  ${problems.join('\n  ')}`,
    );
    this.name = 'ConfigError';
  }
}

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

/** Validates a parsed config document, reporting every problem at once; the result is deep-frozen. */
export function parseConfig(document: unknown, source = 'config'): TenantConfig {
  const result = tenantConfigSchema.safeParse(document);
  const problems = problemsOf({
    issues: [...(result.error?.issues ?? []), ...crossReferenceProblems(document)],
  });
  if (!result.success || problems.length > 0) throw new ConfigError(source, problems);
  return deepFreeze(result.data);
}

export function loadConfigFile(path: string): TenantConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [
      `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(path, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parseConfig(document, path);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
