import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_PASSWORD } from '../../functions/config/grant-types.ts';
import { jsonLogger } from '../../functions/logging.ts';
import { testConfig } from '../helpers/config.ts';
import { json } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { waitFor } from '../helpers/npm-start.ts';

let server: TestServer;
let log = '';

beforeAll(async () => {
  server = await startTestServer({ logger: jsonLogger((line) => (log += line)) });
});
afterAll(() => server.stop());

/** A token request from a client the first config does not have. */
const fromNewApp = () =>
  server.token({
    grant_type: 'password',
    client_id: 'new-app',
    username: 'nobody',
    password: 'whatever it is',
  });

const withNewApp = testConfig({
  clients: [
    ...(testConfig().clients ?? []),
    { clientId: 'new-app', name: 'New app', grantTypes: [GRANT_PASSWORD], realms: ['customers'] },
  ],
});

describe('the local server and an edited config file', () => {
  it('applies a valid edit at once and logs it', async () => {
    expect((await json(await fromNewApp())).error).toBe('invalid_client');
    writeFileSync(server.configPath, JSON.stringify(withNewApp, null, 2));
    await waitFor(() => log, /"message":"config reloaded"/);
    // The new client is known: the request now fails only on the (unknown) user.
    const response = await fromNewApp();
    expect([response.status, (await json(response)).error]).toEqual([400, 'invalid_grant']);
  });

  it('refuses an invalid edit with its problems, and the previous config goes on serving', async () => {
    writeFileSync(server.configPath, JSON.stringify({ ...withNewApp, defaultRealm: 'staff' }));
    await waitFor(() => log, /config refused/);
    const refusal = JSON.parse(log.split('\n').find((line) => line.includes('config refused')) as string);
    expect(refusal).toMatchObject({
      level: 'error',
      message: 'config refused, the previous config goes on serving',
      config: server.configPath,
      problems: ['defaultRealm: unknown realm "staff"'],
    });
    writeFileSync(server.configPath, '{ "defaultRealm": ');
    await waitFor(() => log, /not valid JSON at line 1, column 19/);
    const response = await fromNewApp();
    expect([response.status, (await json(response)).error]).toEqual([400, 'invalid_grant']);
  });
});
