/**
 * `npm run bench -- --write-docs`: the bench's figures go into docs/performance.md between
 * markers, so the page shows what the code measured and cannot drift from it. Everything outside
 * the markers is the page's own prose and stays as it is.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '../functions/local/paths.ts';

export const performancePage = join(repoRoot, 'docs', 'performance.md');
/** The README's Performance section holds the summary block. */
export const readmePage = join(repoRoot, 'README.md');

/**
 * The page's generated blocks: `bench` holds every figure of a full run, `bench:critical-path` the
 * critical-path tables, which `--critical-path` alone rewrites, and `bench:local-refresh` the local
 * server's refresh throughput beside a baseline version (`--baseline`). The README's
 * `bench:summary` is the few figures of the front page, from the same run.
 */
export type BenchBlock = 'bench' | 'bench:critical-path' | 'bench:local-refresh' | 'bench:summary';

export const markers = (name: BenchBlock) => ({
  begin: `<!-- ${name}:begin -->`,
  end: `<!-- ${name}:end -->`,
});

/** The page with `block` between the markers of `name`; a page without them gets them at its end. */
export function withBenchBlock(page: string, block: string, name: BenchBlock = 'bench'): string {
  const { begin, end } = markers(name);
  const generated = `${begin}\n<!-- Written by \`npm run bench -- --write-docs\`; edits here are overwritten. -->\n\n${block.trim()}\n\n${end}`;
  const from = page.indexOf(begin);
  const to = page.indexOf(end);
  if (from === -1 || to < from) return `${page.trimEnd()}\n\n${generated}\n`;
  return `${page.slice(0, from)}${generated}${page.slice(to + end.length)}`;
}

export function writeBenchBlocks(blocks: Partial<Record<BenchBlock, string>>, path = performancePage): void {
  mkdirSync(dirname(path), { recursive: true });
  let page = existsSync(path) ? readFileSync(path, 'utf8') : '# Performance\n';
  for (const [name, block] of Object.entries(blocks) as [BenchBlock, string][]) {
    page = withBenchBlock(page, block, name);
  }
  writeFileSync(path, page);
}
