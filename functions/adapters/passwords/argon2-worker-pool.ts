import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * argon2id hashing on worker threads, one per core, for bulk work (the CLI's `users import`).
 * @node-rs/argon2's async hash runs on libuv's thread pool, which has 4 threads unless
 * UV_THREADPOOL_SIZE is set before Node starts, and which the embedded store's LevelDB needs for
 * its own I/O; a worker per core uses every core on any machine and leaves that pool alone.
 */

/** Plain JavaScript run with eval: a worker needs no TypeScript loader. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { hashSync } = require(workerData.argon2);
parentPort.on('message', ({ password, options }) => {
  try {
    parentPort.postMessage({ hash: hashSync(password, options) });
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.message) || error) });
  }
});
`;

interface Job {
  readonly password: string;
  readonly options: object;
  readonly resolve: (hash: string) => void;
  readonly reject: (error: Error) => void;
}

export class Argon2WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private readonly workers: Worker[];
  private alive: number;

  constructor(readonly size: number) {
    this.alive = size;
    const argon2 = createRequire(import.meta.url).resolve('@node-rs/argon2');
    this.workers = Array.from({ length: size }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { argon2 } });
      worker.on('message', (message: { hash?: string; error?: string }) => {
        const job = this.running.get(worker);
        this.running.delete(worker);
        if (message.hash !== undefined) job?.resolve(message.hash);
        else job?.reject(new Error(`argon2 worker: ${message.error}`));
        this.dispatch(worker);
      });
      worker.on('error', (error) => {
        this.running.get(worker)?.reject(error);
        this.running.delete(worker);
        this.alive--;
        if (this.alive === 0) for (const job of this.queue.splice(0)) job.reject(error);
      });
      worker.unref(); // an idle worker never keeps the process alive; a busy one does (dispatch)
      this.idle.push(worker);
      return worker;
    });
  }

  hash(password: string, options: object): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ password, options, resolve, reject });
      const worker = this.idle.pop();
      if (worker) this.dispatch(worker);
    });
  }

  private dispatch(worker: Worker) {
    const job = this.queue.shift();
    if (!job) {
      worker.unref();
      this.idle.push(worker);
      return;
    }
    worker.ref();
    this.running.set(worker, job);
    worker.postMessage({ password: job.password, options: job.options });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
