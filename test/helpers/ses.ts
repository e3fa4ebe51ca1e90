import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { sdkClientConfig } from '../../functions/runtime/aws-services.ts';

/** One `SendEmail` request as SES v2 received it (its JSON body). */
export interface SentEmail {
  readonly FromEmailAddress: string;
  readonly ReplyToAddresses?: string[];
  readonly Destination: { ToAddresses: string[] };
  readonly Content: {
    Simple: {
      Subject: { Data: string };
      Body: { Text: { Data: string }; Html: { Data: string } };
    };
  };
}

export interface SesDouble {
  readonly sent: SentEmail[];
  /** A real SES v2 client with the Lambda's retry and timeout settings, pointed at the double. */
  readonly client: SESv2Client;
  close(): Promise<void>;
}

/**
 * SES v2 on loopback (REST-JSON: `POST /v2/email/outbound-emails`), accepting every message and
 * keeping it, so a test reads the mail a user would get. Faults go under the client (faults.ts).
 */
export async function startSesDouble(): Promise<SesDouble> {
  const sent: SentEmail[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v2/email/outbound-emails') {
        response.writeHead(404, {
          'content-type': 'application/json',
          'x-amzn-errortype': 'NotFoundException',
        });
        response.end('{"message":"not found"}');
        return;
      }
      sent.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as SentEmail);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ MessageId: `double-${sent.length}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new SESv2Client({
    ...sdkClientConfig,
    endpoint: `http://127.0.0.1:${port}`,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'passgatelocal', secretAccessKey: 'passgatelocal' },
  });
  return {
    sent,
    client,
    close: () =>
      new Promise((resolve) => {
        client.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
