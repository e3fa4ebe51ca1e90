/** `npm run schema`: writes passgate.schema.json from the config's zod schema. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_SCHEMA_FILE, configJsonSchema } from '../functions/config/json-schema.ts';
import { repoRoot } from '../functions/local/paths.ts';

const path = join(repoRoot, CONFIG_SCHEMA_FILE);
writeFileSync(path, configJsonSchema());
process.stdout.write(`wrote ${path}\n`);
