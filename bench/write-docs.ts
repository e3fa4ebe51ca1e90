/**
 * `npm run bench -- --write-docs`: the bench's figures go into docs/performance.md between two
 * markers, so the page shows what the code measured and cannot drift from it. Everything outside
 * the markers is the page's own prose and stays as it is.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '../functions/local/paths.ts';

export const BEGIN = '<!-- bench:begin -->';
export const END = '<!-- bench:end -->';
export const performancePage = join(repoRoot, 'docs', 'performance.md');

/** The page with `block` between the markers; a page without them gets them at its end. */
export function withBenchBlock(page: string, block: string): string {
  const generated = `${BEGIN}\n<!-- Written by \`npm run bench -- --write-docs\`; edits here are overwritten. -->\n\n${block.trim()}\n\n${END}`;
  const begin = page.indexOf(BEGIN);
  const end = page.indexOf(END);
  if (begin === -1 || end < begin) return `${page.trimEnd()}\n\n${generated}\n`;
  return `${page.slice(0, begin)}${generated}${page.slice(end + END.length)}`;
}

export function writeBenchBlock(block: string, path = performancePage): void {
  mkdirSync(dirname(path), { recursive: true });
  const page = existsSync(path) ? readFileSync(path, 'utf8') : '# Performance\n';
  writeFileSync(path, withBenchBlock(page, block));
}
