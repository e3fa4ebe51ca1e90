import { z } from 'zod';
import { tenantConfigSchema } from './schema.ts';

/** The file editors validate passgate.config.json against, next to it at the repository root. */
export const CONFIG_SCHEMA_FILE = 'passgate.schema.json';

/**
 * The tenant config's JSON Schema (draft 2020-12), generated from the zod schema that validates
 * the file, so the two cannot disagree: `npm run schema` writes it, a test checks it is current.
 * It describes what a user writes (`io: 'input'`): fields with a default are optional and carry
 * it. Checks across fields (unknown realms, duplicates) and IP syntax are only zod's to make.
 */
export function configJsonSchema(): string {
  const schema = z.toJSONSchema(tenantConfigSchema, { io: 'input' });
  return `${JSON.stringify({ ...schema, title: 'passgate tenant configuration (passgate.config.json)' }, null, 2)}\n`;
}
