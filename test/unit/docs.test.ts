import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA_FILE } from '../../functions/config/json-schema.ts';
import { repoRoot } from '../../functions/local/paths.ts';
import { anchors, linkTargets } from '../helpers/markdown.ts';

/** Files a user reads: the front page, docs/ and the project files beside the README. */
function userFacingFiles(): string[] {
  const docs = readdirSync(join(repoRoot, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name));
  const projectFiles = ['README.md', 'CHANGELOG.md', 'CONTRIBUTING.md', 'SECURITY.md', 'LICENSE'];
  return [...projectFiles, ...docs].filter((file) => existsSync(join(repoRoot, file)));
}

const NOT_SOURCE = new Set(['node_modules', '.git', 'dist', 'cdk.out', '.passgate', 'coverage']);

/** Every text file of the repository that a clone carries: code, tests, scripts, config, docs. */
function repositoryTextFiles(dir = repoRoot): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return NOT_SOURCE.has(entry.name) ? [] : repositoryTextFiles(path);
    if (entry.name === 'package-lock.json' || statSync(path).size > 1_000_000) return [];
    return /\.(ts|js|mjs|cjs|json|md|sh|ya?ml)$/.test(entry.name) || entry.name === 'run' ? [path] : [];
  });
}

const read = (file: string) => readFileSync(resolve(repoRoot, file), 'utf8');

describe('the docs', () => {
  it('have a README short enough to be a front page', () => {
    expect(read('README.md').split('\n').length).toBeLessThan(250);
  });

  it('link only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const file of userFacingFiles().filter((name) => name.endsWith('.md'))) {
      for (const target of linkTargets(read(file))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: — not ours to check
        const [path = '', anchor] = target.split('#');
        const linked = path === '' ? resolve(repoRoot, file) : resolve(repoRoot, dirname(file), path);
        if (!existsSync(linked)) {
          broken.push(`${file}: ${target} (no ${relative(repoRoot, linked)})`);
        } else if (anchor !== undefined && linked.endsWith('.md') && !anchors(read(linked)).has(anchor)) {
          broken.push(`${file}: ${target} (no heading #${anchor} in ${relative(repoRoot, linked)})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('speak to users: no issue numbers or notes to the team', () => {
    const found = userFacingFiles().flatMap((file) =>
      [...read(file).matchAll(/\bissue\s*#?\d+|decision needed|\bTODO\b/gi)].map((m) => `${file}: ${m[0]}`),
    );
    expect(found).toEqual([]);
  });

  it('and the code cite only what a clone has: the docs pages and the RFCs', () => {
    // Spelt in pieces, so that this file does not find itself.
    const teamOnly = [new RegExp(['CONT', 'RACT'].join('')), new RegExp(['shared', 'folder'].join(' '), 'i')];
    const found = repositoryTextFiles()
      .filter((path) => teamOnly.some((pattern) => pattern.test(readFileSync(path, 'utf8'))))
      .map((path) => relative(repoRoot, path));
    expect(found).toEqual([]);
  });
});

type JsonSchema = {
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  default?: unknown;
};

/** `realms[].bruteForce.blockSeconds` → its schema, for every field a user can write. */
function configFields(schema: JsonSchema, path = ''): [string, JsonSchema][] {
  if (schema.type === 'object' && schema.properties) {
    return Object.entries(schema.properties).flatMap(([name, child]) => {
      const childPath = path ? `${path}.${name}` : name;
      const nested = configFields(child, childPath);
      return nested.length > 0 ? nested : [[childPath, child] as [string, JsonSchema]];
    });
  }
  if (schema.type === 'array' && schema.items?.type === 'object')
    return configFields(schema.items, `${path}[]`);
  return [];
}

/** The default column of the row documenting `field`: its first `code` value, as JSON. */
function documentedDefault(page: string, field: string): string | undefined {
  const row = read(page)
    .split('\n')
    .find((line) => line.startsWith(`| \`${field}\``));
  const cells = row?.split(/(?<!\\)\|/).map((cell) => cell.trim());
  return cells?.[cells.length === 6 ? 3 : 2]?.match(/`([^`]*)`/)?.[1];
}

describe('the configuration docs', () => {
  const schema: JsonSchema = JSON.parse(read(CONFIG_SCHEMA_FILE));
  const fields = configFields(schema);

  it('list every field of the config schema in the reference', () => {
    const reference = read('docs/reference.md');
    expect(fields.length).toBeGreaterThan(20);
    expect(fields.map(([field]) => field).filter((field) => !reference.includes(`| \`${field}\``))).toEqual(
      [],
    );
  });

  it.each(['docs/reference.md', 'docs/configuration.md'])('give the defaults the code has, in %s', (page) => {
    const wrong = fields
      .filter(([, field]) => field.default !== undefined)
      .map(([path, field]) => [path, JSON.stringify(field.default), documentedDefault(page, path)])
      .filter(([, actual, documented]) => documented !== undefined && documented !== actual);
    expect(wrong).toEqual([]);
  });
});
