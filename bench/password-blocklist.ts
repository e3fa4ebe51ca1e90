import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The built-in list of common passwords: its size on disk and in a zip, and what a lookup costs. */
export async function passwordBlocklistFigures(lookups: number) {
  const file = fileURLToPath(
    new URL('../functions/oauth/passwords/common-passwords.generated.ts', import.meta.url),
  );
  const started = performance.now();
  const { commonPasswords } = await import('../functions/oauth/passwords/blocklist.ts');
  await commonPasswords.has('warm-up'); // the first lookup splits the list into its array
  const loadMs = performance.now() - started;
  const probes = Array.from({ length: lookups }, (_, i) => (i % 2 === 0 ? `not listed ${i}` : 'iloveyou'));
  const lookupStarted = performance.now();
  for (const probe of probes) await commonPasswords.has(probe);
  const lookupUs = ((performance.now() - lookupStarted) * 1000) / lookups;
  return {
    entries: await commonPasswords.size(),
    bytes: statSync(file).size,
    gzipBytes: gzipSync(readFileSync(file), { level: 9 }).length,
    loadMs,
    lookupUs,
  };
}
