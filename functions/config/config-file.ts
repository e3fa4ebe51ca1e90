import { readFileSync } from 'node:fs';
import { jsonErrorPosition } from './json-error-position.ts';
import type { TenantConfig } from './schema.ts';

/**
 * Reading a config file, without the schema: the Lambda bundles read the config the stack already
 * validated at synth, and must not carry zod (a third of a bundle, compiled at every cold start).
 */

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

/** The JSON document in a config file; an unreadable file or invalid JSON is a ConfigError. */
export function readConfigDocument(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [
      `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  const json = text.replace(/^\uFEFF/, ''); // a BOM, as some Windows editors write
  try {
    return JSON.parse(json);
  } catch (error) {
    const { line, column } = jsonErrorPosition(json);
    // V8's message sometimes quotes the whole file: the position is what the reader needs.
    const reason = (error as Error).message
      .replace(/, (?:\.\.\.)?".* is not valid JSON$/s, '')
      .replace(/ in JSON at position.*$/s, '');
    throw new ConfigError(path, [`not valid JSON at line ${line}, column ${column}: ${reason}`]);
  }
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * The config file in a function's asset: the stack writes `parseConfig`'s output there at synth
 * (lib/constructs/passgate-function.ts, `bundleWithConfig`), validated and with its defaults filled
 * in, so a cold start takes it as it is, deep-frozen like `parseConfig`'s result.
 */
export function loadValidatedConfigFile(path: string): TenantConfig {
  return deepFreeze(readConfigDocument(path) as TenantConfig);
}
