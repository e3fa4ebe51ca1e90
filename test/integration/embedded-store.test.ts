import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { openLocalStore, startEmbeddedStore } from '../../functions/local/embedded-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'passgate-store-'));
  dirs.push(dir);
  return join(dir, 'data');
};

describe('the embedded store of local mode', () => {
  it('refuses a data dir another process holds with one clear error, then opens once it is free', async () => {
    const dir = dataDir();
    const first = await startEmbeddedStore(dir);
    await expect(startEmbeddedStore(dir)).rejects.toThrow(
      new Error(`the data dir ${dir} is in use by another passgate process`),
    );
    await first.close();
    const again = await startEmbeddedStore(dir);
    await again.close();
  });

  it('opens the store itself when the recorded server no longer listens (its pid reused)', async () => {
    const dir = dataDir();
    mkdirSync(dir, { recursive: true });
    // A live pid (this process) with a port nothing listens on: what a SIGKILL leaves in a container.
    writeFileSync(
      join(dir, 'store-endpoint.json'),
      JSON.stringify({ endpoint: 'http://127.0.0.1:1', pid: process.pid }),
    );
    const store = await openLocalStore(dir);
    try {
      expect(store.endpoint).not.toBe('http://127.0.0.1:1');
      expect((await store.db.send(new ListTablesCommand({}))).TableNames?.length).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  it('closes a data dir made beforehand to other users: it holds password hashes', async () => {
    const dir = dataDir();
    mkdirSync(dir, { mode: 0o755 });
    const store = await startEmbeddedStore(dir);
    await store.close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'store')).mode & 0o777).toBe(0o700);
  });
});
