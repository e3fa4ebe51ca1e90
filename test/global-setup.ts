import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildBundles } from '../scripts/build-bundles.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The real `npm run build` output, built once per test run into a temporary folder. */
    bundlesDir: string;
  }
}

export default async function setup(project: TestProject) {
  const bundlesDir = mkdtempSync(join(tmpdir(), 'passgate-bundles-'));
  await buildBundles(bundlesDir);
  project.provide('bundlesDir', bundlesDir);
  return () => rmSync(bundlesDir, { recursive: true, force: true });
}
