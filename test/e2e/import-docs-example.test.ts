import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseUserFile } from '../../functions/admin/auth0-user-format.ts';
import { importUsers } from '../../functions/admin/user-import.ts';
import { repoRoot } from '../../functions/local/paths.ts';
import { json } from '../helpers/http.ts';
import { startTestServer, type TestServer } from '../helpers/local-server.ts';
import { adminServices } from '../helpers/users.ts';

let server: TestServer;

/** The JSON example of docs/migrating-users.md, as the operator would save it. */
function docsExample(): string {
  const doc = readFileSync(join(repoRoot, 'docs', 'migrating-users.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## An example from an Auth0 export'));
  const block = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
  if (!block) throw new Error('docs/migrating-users.md has no Auth0 export example');
  return block;
}

const login = (username: string, password: string) =>
  server.token({ grant_type: 'password', client_id: 'mobile-app', username, password });

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe('the Auth0 export example of the migration guide', () => {
  it('imports as the docs say, and each user logs in with the password the docs give', async () => {
    const report = await importUsers(adminServices(server), {
      realm: 'customers',
      rows: parseUserFile(docsExample()),
    });
    expect(report).toMatchObject({ imported: 4, rejected: 1 });
    expect(report.rejections).toMatchObject([
      { row: 5, code: 'unsupported_algorithm', username: 'eve@example.com' },
    ]);
    const ana = await login('ana@example.com', "ana's old password");
    expect(ana.status).toBe(200);
    expect(decodeJwt((await json(ana)).access_token).sub).toBe('customers|5f7c8ec7c33c6c004bbafe82');
    expect((await login('ben', "ben's old password")).status).toBe(200);
    expect((await login('cy@example.com', "cy's old password")).status).toBe(200);
    expect((await login('dee@example.com', "dee's plain password")).status).toBe(403);
  });
});
