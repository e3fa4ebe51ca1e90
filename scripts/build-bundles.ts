/**
 * `npm run build`: one esbuild bundle per endpoint of functions/routes.ts, in
 * `dist/functions/<endpoint>/`, the folders the CDK stack deploys (ESM, minified, split into chunks
 * where code is only imported on demand, source maps).
 *
 * Native modules cannot be bundled: they stay external, and the bundles that import them get the
 * package's JS loader plus the binary for the Lambda platform (linux-arm64, glibc) in their own
 * node_modules, whatever OS and CPU build them (no Docker). That binary comes from the npm registry
 * through `npm pack` and must match the integrity recorded in package-lock.json; it is kept in
 * node_modules/.cache so later builds work offline.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import { lambdaPlatform } from '../functions/deployment.ts';
import { endpoints } from '../functions/routes.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const defaultBundlesDir = join(repoRoot, 'dist', 'functions');
const handlersDir = join(repoRoot, 'functions', 'handlers');

/** Native packages the functions import → their binary package for the Lambda platform. */
const nativePackages: Readonly<Record<string, string>> = {
  '@node-rs/argon2': `@node-rs/argon2-linux-${lambdaPlatform.architecture}-gnu`,
};

/** ESM output still meets CommonJS code that calls `require` (native packages' loaders). */
const REQUIRE_SHIM =
  "import { createRequire as __passgateCreateRequire } from 'node:module';" +
  'const require = __passgateCreateRequire(import.meta.url);';

/**
 * A native package's loader is CommonJS. Imported from ESM, Node would first scan its source with
 * cjs-module-lexer for named exports (milliseconds at every cold start); required, it is simply
 * run. The bundle's `require` is the REQUIRE_SHIM's.
 */
const requireNativePackages: Plugin = {
  name: 'require-native-packages',
  setup(esbuild) {
    const names = new RegExp(
      `^(?:${Object.keys(nativePackages)
        .map((name) => name.replace(/[/.]/g, '\\$&'))
        .join('|')})$`,
    );
    esbuild.onResolve({ filter: names }, ({ path, namespace }) =>
      namespace === 'native-require' ? { path, external: true } : { path, namespace: 'native-require' },
    );
    esbuild.onLoad({ filter: /.*/, namespace: 'native-require' }, ({ path }) => ({
      contents: `module.exports = require(${JSON.stringify(path)});`,
      loader: 'js',
    }));
  },
};

/**
 * The tenant config is validated at synth (functions/config/load.ts); the functions read the
 * result as it is (functions/config/config-file.ts). zod in a bundle would be compiled at every
 * cold start for nothing: a build that would carry it fails instead.
 */
const FORBIDDEN_IN_BUNDLES = /(?:^|[\\/])node_modules[\\/]zod[\\/]/;

export interface BundleReport {
  readonly endpoint: string;
  readonly dir: string;
  /** index.mjs and its chunks, their source maps, and node_modules (native packages), in bytes. */
  readonly codeBytes: number;
  /** The part of `codeBytes` a cold start reads: index.mjs and the chunks it imports statically. */
  readonly coldStartBytes: number;
  readonly sourceMapBytes: number;
  readonly nodeModulesBytes: number;
  readonly nativePackages: readonly string[];
}

function directoryBytes(path: string): number {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.size;
  return readdirSync(path).reduce((sum, entry) => sum + directoryBytes(join(path, entry)), 0);
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Every endpoint has an entry point and every entry point an endpoint. */
function entryPoints(): Map<string, string> {
  const names = Object.keys(endpoints);
  const files = readdirSync(handlersDir).filter((file) => file.endsWith('.ts'));
  const problems = [
    ...names
      .filter((name) => !files.includes(`${name}.ts`))
      .map((name) => `endpoint "${name}" has no entry point functions/handlers/${name}.ts`),
    ...files
      .filter((file) => !names.includes(file.replace(/\.ts$/, '')))
      .map((file) => `functions/handlers/${file} is not an endpoint of functions/routes.ts`),
  ];
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return new Map(names.map((name) => [name, join(handlersDir, `${name}.ts`)]));
}

/**
 * The binary package for the Lambda platform, at the version the installed loader expects and
 * with the integrity the lock file records.
 */
function platformPackageDir(loader: string, binaryPackage: string): string {
  const expected = (readJson(join(repoRoot, 'node_modules', loader, 'package.json')).optionalDependencies ??
    {}) as Record<string, string>;
  const version = expected[binaryPackage];
  if (!version) throw new Error(`${loader} has no binary package ${binaryPackage}`);
  const lock = readJson(join(repoRoot, 'package-lock.json')).packages as Record<
    string,
    { version?: string; integrity?: string }
  >;
  const locked = lock[`node_modules/${binaryPackage}`];
  if (locked?.version !== version || !locked.integrity?.startsWith('sha512-')) {
    throw new Error(`package-lock.json has no sha512 integrity for ${binaryPackage}@${version}`);
  }
  const cacheDir = join(
    repoRoot,
    'node_modules',
    '.cache',
    'passgate-native',
    `${binaryPackage.replace('/', '+')}@${version}`,
  );
  if (existsSync(join(cacheDir, 'package.json'))) return cacheDir;

  const workDir = mkdtempSync(join(tmpdir(), 'passgate-native-'));
  try {
    const packed = execFileSync(
      'npm',
      ['pack', `${binaryPackage}@${version}`, '--pack-destination', workDir, '--json', '--prefer-offline'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], shell: process.platform === 'win32' },
    );
    const [{ filename }] = JSON.parse(packed) as [{ filename: string }];
    const tarball = join(workDir, filename);
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (integrity !== locked.integrity) {
      throw new Error(`${binaryPackage}@${version}: integrity ${integrity} differs from package-lock.json`);
    }
    execFileSync('tar', ['-xzf', tarball, '-C', workDir]);
    mkdirSync(dirname(cacheDir), { recursive: true });
    try {
      renameSync(join(workDir, 'package'), cacheDir);
    } catch (error) {
      // Another build filled the cache meanwhile: theirs passed the same integrity check.
      if (!existsSync(join(cacheDir, 'package.json'))) throw error;
    }
    return cacheDir;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The loader's own files (not its types or browser build) and the platform binary package. */
function addNativePackage(bundleDir: string, loader: string): void {
  const source = join(repoRoot, 'node_modules', loader);
  const target = join(bundleDir, 'node_modules', loader);
  mkdirSync(target, { recursive: true });
  const main = (readJson(join(source, 'package.json')).main as string | undefined) ?? 'index.js';
  for (const file of ['package.json', main, 'LICENSE']) {
    if (existsSync(join(source, file))) cpSync(join(source, file), join(target, file));
  }
  const binaryPackage = nativePackages[loader] as string;
  cpSync(platformPackageDir(loader, binaryPackage), join(bundleDir, 'node_modules', binaryPackage), {
    recursive: true,
  });
}

/** `entry` and the outputs it reaches by static `import`s: what loading it reads, `import()`s aside. */
function staticallyImported(outputs: Metafile['outputs'], entry: string): string[] {
  const reached = new Set<string>();
  const visit = (output: string) => {
    if (reached.has(output)) return;
    reached.add(output);
    for (const { path, kind, external } of outputs[output]?.imports ?? []) {
      if (kind === 'import-statement' && !external) visit(path);
    }
  };
  visit(entry);
  return [...reached];
}

export async function buildBundles(outDir: string = defaultBundlesDir): Promise<BundleReport[]> {
  const entries = entryPoints();
  rmSync(outDir, { recursive: true, force: true });
  const reports: BundleReport[] = [];
  for (const [endpoint, entry] of entries) {
    const dir = join(outDir, endpoint);
    const { metafile } = await build({
      absWorkingDir: repoRoot,
      entryPoints: { index: entry },
      outdir: dir,
      outExtension: { '.js': '.mjs' },
      // Code that is only reached through `import()` (the SDK's credential providers other than
      // environment variables, its event streams, bcrypt for imported hashes) goes into chunks of
      // its own, which a cold start neither reads nor compiles unless it runs.
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${lambdaPlatform.nodeMajor}`,
      // The AWS SDK's ES modules tree-shake far better than its CommonJS build.
      mainFields: ['module', 'main'],
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      legalComments: 'external',
      banner: { js: REQUIRE_SHIM },
      plugins: [requireNativePackages],
      metafile: true,
      logLevel: 'warning',
    });
    const forbidden = Object.keys(metafile.inputs).filter((input) => FORBIDDEN_IN_BUNDLES.test(input));
    if (forbidden.length > 0) {
      throw new Error(`the ${endpoint} bundle must not import zod, but imports ${forbidden.join(', ')}`);
    }
    const imported = new Set(
      Object.values(metafile.outputs).flatMap((output) =>
        output.imports.filter((i) => i.external).map((i) => i.path),
      ),
    );
    const natives = Object.keys(nativePackages).filter((loader) => imported.has(loader));
    for (const loader of natives) addNativePackage(dir, loader);
    const bytes = (suffix: string) =>
      Object.keys(metafile.outputs)
        .filter((output) => output.endsWith(suffix))
        .reduce((sum, output) => sum + statSync(join(repoRoot, output)).size, 0);
    reports.push({
      endpoint,
      dir,
      codeBytes: bytes('.mjs'),
      coldStartBytes: staticallyImported(metafile.outputs, join(relative(repoRoot, dir), 'index.mjs')).reduce(
        (sum, output) => sum + statSync(join(repoRoot, output)).size,
        0,
      ),
      sourceMapBytes: bytes('.mjs.map'),
      nodeModulesBytes: directoryBytes(join(dir, 'node_modules')),
      nativePackages: natives.map((loader) => nativePackages[loader] as string),
    });
  }
  return reports;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const reports = await buildBundles();
  for (const report of reports) {
    process.stdout.write(
      `${relative(repoRoot, report.dir)}: JavaScript ${kib(report.codeBytes)}, source maps ${kib(report.sourceMapBytes)}` +
        `${report.nativePackages.length > 0 ? `, node_modules ${kib(report.nodeModulesBytes)} (${report.nativePackages.join(', ')})` : ''}\n`,
    );
  }
}
