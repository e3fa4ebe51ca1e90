import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request to a double: the `X-Amz-Target` (`Service.Operation`) and the JSON body. */
export interface AwsJsonCall {
  readonly target: string;
  readonly body: Record<string, string>;
}

export interface AwsJsonDouble {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_<SERVICE>`. */
  readonly endpoint: string;
  readonly calls: AwsJsonCall[];
  close(): Promise<void>;
}

/** An answer: 200 with the document, or an AWS error (`{"__type", "message"}`) with its status. */
export type AwsJsonAnswer = { status: number; document: unknown };

export const awsError = (status: number, type: string, message: string): AwsJsonAnswer => ({
  status,
  document: { __type: type, message },
});

/**
 * An AWS service on loopback speaking the JSON 1.1 protocol (POST, `X-Amz-Target`, JSON in and
 * out), for a process that aws-sdk-client-mock cannot reach: a built Lambda bundle, the CLI.
 */
export async function startAwsJsonDouble(
  answer: (call: AwsJsonCall) => AwsJsonAnswer,
): Promise<AwsJsonDouble> {
  const calls: AwsJsonCall[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const call = {
        target: String(request.headers['x-amz-target'] ?? ''),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, string>,
      };
      calls.push(call);
      const { status, document } = answer(call);
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(document));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
