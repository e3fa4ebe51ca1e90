/** `npm start`: the local authorization server (README, "Quick start"). */
import { ConfigError } from '../functions/config/config-file.ts';
import { localPaths } from '../functions/local/paths.ts';
import { startLocalServer } from '../functions/local/server.ts';

const port = Number(process.env.PORT ?? 3000);
const { configPath, dataDir } = localPaths();

try {
  const server = await startLocalServer({ port, configPath, dataDir });
  process.stderr.write(
    [
      `passgate is listening on ${server.issuer} (bound to 127.0.0.1)`,
      `  issuer:   ${server.issuer}`,
      `  token:    ${server.issuer}oauth/token`,
      `  JWKS:     ${server.issuer}.well-known/jwks.json`,
      `  config:   ${configPath}`,
      `  data dir: ${dataDir}`,
      '',
      'Create a user, then ask for a token:',
      '  printf "correct horse battery staple" | npx passgate users create --realm customers --username alice --password-stdin',
      `  curl -s ${server.issuer}oauth/token -d grant_type=password -d client_id=mobile-app \\`,
      `    -d username=alice -d "password=correct horse battery staple" -d "scope=openid offline_access read:orders"`,
      '',
    ].join('\n'),
  );
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`passgate could not start: ${(error as Error).message}\n`);
  }
  process.exit(1);
}
