import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA_FILE, configJsonSchema } from '../../functions/config/json-schema.ts';
import { loadConfigFile, parseConfig } from '../../functions/config/load.ts';
import { repoRoot } from '../../functions/local/paths.ts';
import { testConfig } from '../helpers/config.ts';

const shippedSchema = () => readFileSync(join(repoRoot, CONFIG_SCHEMA_FILE), 'utf8');
const exampleConfigPath = join(repoRoot, 'passgate.config.json');

/** What an editor does with the file: validate it against the schema its `$schema` names. */
function editorValidator() {
  // `format: uri` is only a hint to editors; the zod schema checks URLs itself.
  const ajv = new Ajv2020({ allErrors: true, validateFormats: false });
  return ajv.compile(JSON.parse(shippedSchema()));
}

describe('the config JSON Schema (passgate.schema.json)', () => {
  it('is what `npm run schema` generates from the config schema today', () => {
    expect(shippedSchema(), 'passgate.schema.json is out of date: run `npm run schema`').toBe(
      configJsonSchema(),
    );
  });

  it('is named by the example config, which passgate and the schema both accept', () => {
    const document = JSON.parse(readFileSync(exampleConfigPath, 'utf8'));
    expect(document.$schema).toBe(`./${CONFIG_SCHEMA_FILE}`);
    expect(loadConfigFile(exampleConfigPath).defaultRealm).toBe('customers');
    const validate = editorValidator();
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
  });

  it('refuses, like passgate, a misspelt field and a value of the wrong type', () => {
    const validate = editorValidator();
    const misspelt = { ...testConfig(), refreshToken: {} };
    expect(validate(misspelt)).toBe(false);
    expect(() => parseConfig(misspelt)).toThrow(/refreshToken/);
    const wrongType = { ...testConfig(), ipThrottling: { maxFailuresPerDay: '100' } };
    expect(validate(wrongType)).toBe(false);
    expect(() => parseConfig(wrongType)).toThrow(/ipThrottling\.maxFailuresPerDay/);
  });

  it('lets a config without `$schema` through too', () => {
    const validate = editorValidator();
    expect(validate(testConfig())).toBe(true);
    expect(parseConfig({ ...testConfig(), $schema: './passgate.schema.json' }).defaultRealm).toBe(
      'customers',
    );
  });
});
