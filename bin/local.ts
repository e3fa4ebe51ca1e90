/** `npm start`: the local authorization server (README, "Quick start"). */
import { mkdirSync } from 'node:fs';
import { ConfigError } from '../functions/config/config-file.ts';
import { localPaths } from '../functions/local/paths.ts';
import { startLocalServer } from '../functions/local/server.ts';
import { removeServerRecord, writeServerRecord } from '../functions/local/server-record.ts';
import { localCertificate } from '../functions/local/tls-certificate.ts';

/** A start-up problem the user fixes by a setting: one line, exit status 1, no stack trace. */
class StartupError extends Error {}

function portOf(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new StartupError(`PORT must be a port number from 0 to 65535, not "${value}"`);
  }
  return port;
}

/** Node's system errors (listen, mkdir, open) in the words of the setting that fixes them. */
function startupProblem(error: unknown, port: number, dataDir: string): string {
  if (error instanceof StartupError || error instanceof ConfigError) return error.message;
  const { code, syscall, path } = error as NodeJS.ErrnoException;
  if (code === 'EADDRINUSE') return `port ${port} is in use; set PORT to another port (PORT=3001 npm start)`;
  if (syscall === 'listen') return `cannot listen on port ${port} (${code}); set PORT to another port`;
  if (path !== undefined) {
    return `the data dir ${dataDir} cannot be used (${code} on ${path}); set PASSGATE_DATA_DIR to a directory you can write`;
  }
  return `passgate could not start: ${(error as Error).message}`;
}

const paths = localPaths();
const { configPath, dataDir } = paths;
const https = process.argv.includes('--https') || process.env.PASSGATE_HTTPS === '1';
let port = 3000;

try {
  port = portOf(process.env.PORT);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const certificate = https ? localCertificate(dataDir) : undefined;
  const server = await startLocalServer({ port, configPath, dataDir, tls: certificate });
  writeServerRecord(paths.serverRecord, { pid: process.pid, issuer: server.issuer, dataDir, configPath });
  // The example names the store and config the server uses when they are not the defaults: a CLI
  // run without them would otherwise work on another store (though it finds this server's record).
  const defaults = localPaths({});
  const settings = [
    dataDir === defaults.dataDir ? '' : `PASSGATE_DATA_DIR=${dataDir} `,
    configPath === defaults.configPath ? '' : `PASSGATE_CONFIG=${configPath} `,
  ].join('');
  const curlTrust = certificate ? `--cacert ${certificate.certPath} ` : '';
  process.stderr.write(
    [
      `passgate is listening on ${server.issuer} (bound to 127.0.0.1)`,
      `  issuer:   ${server.issuer}`,
      `  token:    ${server.issuer}oauth/token`,
      `  JWKS:     ${server.issuer}.well-known/jwks.json`,
      `  config:   ${configPath} (reloaded when it changes)`,
      `  data dir: ${dataDir}`,
      `  outbox:   ${dataDir}/outbox (mails sent in local mode; each link is printed here)`,
      ...(certificate
        ? [
            `  TLS certificate: ${certificate.certPath}`,
            `  SHA-256 fingerprint: ${certificate.fingerprint256}`,
            '  Trust it: curl --cacert <certificate>; Node NODE_EXTRA_CA_CERTS=<certificate>;',
            '  iOS simulator: xcrun simctl keychain booted add-root-cert <certificate>;',
            '  Android emulator: the certificate in res/raw and network_security_config, then',
            `  adb reverse tcp:${server.port} tcp:${server.port} (see docs/mobile.md)`,
          ]
        : []),
      '',
      'Create a user, then ask for a token:',
      `  printf "correct horse battery staple" | ${settings}npx passgate users create --realm customers --username alice --password-stdin`,
      `  curl -s ${curlTrust}${server.issuer}oauth/token -d grant_type=password -d client_id=mobile-app \\`,
      `    -d username=alice -d "password=correct horse battery staple" -d "scope=openid offline_access read:orders"`,
      '',
    ].join('\n'),
  );
  const stop = () =>
    void server.close().then(() => {
      removeServerRecord(paths.serverRecord, process.pid);
      process.exit(0);
    });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  process.stderr.write(`${startupProblem(error, port, dataDir)}\n`);
  process.exit(1);
}
