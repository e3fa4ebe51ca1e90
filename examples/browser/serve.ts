/** `npm run example:browser`: serves examples/browser on its own origin, for `npm start`'s server. */
import { startExampleServer } from './server.ts';

const port = Number(process.env.EXAMPLE_PORT ?? 5173);
const issuer = process.env.PASSGATE_ISSUER ?? `http://localhost:${process.env.PORT ?? 3000}/`;

try {
  const example = await startExampleServer(port, {
    issuer,
    clientId: process.env.EXAMPLE_CLIENT_ID ?? 'web-app',
    audience: process.env.EXAMPLE_AUDIENCE ?? 'https://api.example.com/',
    scope: 'openid profile email offline_access read:orders',
  });
  process.stderr.write(
    [
      `The browser example is on ${example.url} (passgate at ${issuer}, client web-app).`,
      `Open ${example.url} in a browser; passgate must be running (npm start) and have a user:`,
      '  printf "correct horse battery staple" | npx passgate users create --realm employees --username ada --password-stdin',
      '',
    ].join('\n'),
  );
  const stop = () => void example.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  process.stderr.write(`the browser example could not start on port ${port}: ${(error as Error).message}\n`);
  process.exit(1);
}
