/**
 * The embedded engine's own thread (embedded-store.ts starts it): dynalite on its LevelDB files,
 * and the loopback port other processes (the CLI) reach it on. The local server's thread sends
 * each AWS SDK request here as plain data (in-process-transport.ts) and gets dynalite's answer
 * back, so parsing, validating and storing items never hold up its HTTP requests, and run on
 * another core (npm run bench). Plain JavaScript: a worker does not inherit the TypeScript loader
 * of the thread that starts it, and loading one costs more than this whole thread does.
 *
 * Messages in: `{ id, request: EngineRequest }` or `'close'`. Out: `{ ready: endpoint }`,
 * `{ failed: message }`, `{ id, response: EngineResponse }`.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import dynalite from 'dynalite';
import { askEngine, withTransactions } from './transactions.mjs';

/**
 * dynalite verifies no signature and answers any origin's CORS preflight with `*`, so a web page
 * the developer visits could read and write the store through its loopback port (or through DNS
 * rebinding). The SDK clients that use the port (the CLI, the Lambda bundles in tests) send no
 * `Origin` and name the loopback host; browsers always send `Origin` with a cross-origin or POST
 * request and cannot forge `Host`. Anything else is refused before dynalite sees it.
 * @param {import('node:http').RequestListener} listener
 * @param {number} port
 * @returns {import('node:http').RequestListener}
 */
function refusingBrowsers(listener, port) {
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  return (request, response) => {
    if (request.headers.origin === undefined && hosts.has(request.headers.host ?? '')) {
      listener(request, response);
      return;
    }
    response.writeHead(403, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ message: 'passgate: the embedded store serves only local SDK clients' }));
  };
}

/**
 * LevelDB lets one process open a directory. dynalite opens it on its first request and throws a
 * failure to do so out of its request callback, where nothing can catch it (a crash with a stack
 * trace): the lock is tried here first, with the LevelDB binding dynalite opens the store with
 * (its own dependency, at its version), so a data dir in use is one clear error.
 * @param {string} path
 * @param {string} dataDir
 */
async function claimStore(path, dataDir) {
  const { Level } = createRequire(createRequire(import.meta.url).resolve('dynalite'))('level');
  const probe = new Level(path);
  try {
    await probe.open();
  } catch (error) {
    if (error?.cause?.code === 'LEVEL_LOCKED') {
      throw new Error(`the data dir ${dataDir} is in use by another passgate process`);
    }
    throw error;
  }
  await probe.close();
}

/**
 * dynalite reads LevelDB through classic-level's asynchronous get, which hands every read (each
 * request reads its table's description, then its items) to libuv's thread pool and back: two
 * thread switches for a read that LevelDB answers from memory in microseconds, and a pool that
 * the local signer shares. This thread does nothing but serve the engine, so its reads may block
 * it: classic-level's own synchronous read (`getSync`, same options and answers) takes their
 * place, saving about 0.2 ms of the server's CPU per refresh (npm run bench). Writes stay
 * asynchronous.
 */
function readInThisThread() {
  const { Level } = createRequire(createRequire(import.meta.url).resolve('dynalite'))('level');
  Level.prototype._get = async function (key, options) {
    return this._getSync(key, options);
  };
}

/**
 * @param {import('node:worker_threads').MessagePort} port
 * @param {string} dataDir
 */
async function start(port, dataDir) {
  readInThisThread();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // The store holds password hashes in LevelDB files made with the umask: a data dir someone
  // created beforehand (755, say) is closed to other users here, as a new one is created.
  chmodSync(dataDir, 0o700);
  // The store's own directory too, so that moving or sharing it alone does not open it up.
  const storeDir = join(dataDir, 'store');
  mkdirSync(storeDir, { recursive: true, mode: 0o700 });
  chmodSync(storeDir, 0o700);
  await claimStore(storeDir, dataDir);
  const server = dynalite({ path: storeDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  const enginePort = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  // The server's thread talks to the engine directly; the port serves other processes (the CLI).
  // Both reach it through the one transaction emulation (transactions.mjs), which holds its lock.
  const listener = withTransactions(
    /** @type {import('node:http').RequestListener} */ (server.listeners('request')[0]),
  );
  server.removeAllListeners('request');
  server.on('request', refusingBrowsers(listener, enginePort));
  port.on('message', async (message) => {
    if (message === 'close') {
      server.closeAllConnections?.();
      // dynalite closes its LevelDB store with the server, releasing the data dir's lock.
      await new Promise((resolve) => server.close(resolve));
      process.exit(0); // ends this thread only
    }
    port.postMessage({ id: message.id, response: await askEngine(listener, message.request) });
  });
  port.postMessage({ ready: `http://127.0.0.1:${enginePort}` });
}

if (parentPort) {
  const port = parentPort;
  start(port, workerData.dataDir).catch((error) => port.postMessage({ failed: error.message }));
}
