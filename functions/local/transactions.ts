/**
 * TransactWriteItems for dynalite, which has no transactions. The embedded engine answers it by
 * emulation, in front of dynalite's request listener, for the one shape passgate sends (a
 * sign-in's writes, adapters/dynamodb/sign-in-store.ts): Put, Update and Delete actions, each with
 * its condition. While a transaction runs, every other request to the engine is held back; its
 * actions are applied one by one as conditional single-item writes that return the item as it
 * was, and if any condition fails, the ones applied are put back as they were, in reverse, and the
 * answer is DynamoDB's `TransactionCanceledException` with a reason per action. Other requests
 * therefore never see a transaction half applied, and a transaction sent again with the same
 * `ClientRequestToken` within ten minutes is answered without being applied twice, as DynamoDB
 * does. What it does not give is durability across a crash of the process between two of those
 * writes: the local server is one process on one machine, and its store is a development tool.
 * Deployed, the same request goes to DynamoDB, which runs it as a transaction.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import type { HttpRequest } from '@smithy/types';
import { inProcessRequestHandler, inProcessSigner } from './in-process-transport.ts';

const TARGET_PREFIX = 'DynamoDB_20120810.';
const ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';
/** How long DynamoDB remembers a ClientRequestToken. */
const IDEMPOTENCY_MS = 10 * 60 * 1000;

type Json = Record<string, unknown>;
type Answer = { status: number; body: Json };
type Action = 'Put' | 'Update' | 'Delete';

/** One request as it reached the engine: what a replay to dynalite needs. */
interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly body: Buffer;
}

/**
 * dynalite's listener with TransactWriteItems answered by emulation; give every request to the
 * engine (the HTTP server's and the in-process client's) to this one listener, so that they share
 * its lock.
 */
export function withTransactions(dynalite: RequestListener): RequestListener {
  const lock = new EngineLock();
  const engine = inProcessRequestHandler(dynalite);
  const remembered = new Map<string, { digest: string; at: number }>();
  const tableKeys = new Map<string, Promise<readonly string[]>>();

  /** One single-item request to dynalite, while the transaction holds the engine. */
  const call = async (operation: string, input: Json): Promise<Answer> => {
    const request = (await inProcessSigner.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: 'localhost',
      path: '/',
      query: {},
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `${TARGET_PREFIX}${operation}`,
        host: 'localhost',
      },
      body: JSON.stringify(input),
    } as HttpRequest)) as HttpRequest;
    const { response } = await engine.handle(request);
    return {
      status: response.statusCode,
      body: JSON.parse(Buffer.from(response.body).toString('utf8') || '{}'),
    };
  };

  const keyNames = (table: string) => {
    let names = tableKeys.get(table);
    if (!names) {
      names = call('DescribeTable', { TableName: table }).then(({ status, body }) => {
        if (status !== 200) throw Object.assign(new Error('no such table'), { answer: { status, body } });
        const schema = (body.Table as { KeySchema: { AttributeName: string }[] }).KeySchema;
        return schema.map((key) => key.AttributeName);
      });
      names.catch(() => tableKeys.delete(table));
      tableKeys.set(table, names);
    }
    return names;
  };

  async function transact(body: Json): Promise<Answer> {
    const token = typeof body.ClientRequestToken === 'string' ? body.ClientRequestToken : undefined;
    const digest = createHash('sha256').update(JSON.stringify(body.TransactItems)).digest('base64');
    const now = Date.now();
    for (const [old, seen] of remembered) if (now - seen.at > IDEMPOTENCY_MS) remembered.delete(old);
    const earlier = token === undefined ? undefined : remembered.get(token);
    if (earlier) {
      return earlier.digest === digest
        ? { status: 200, body: {} }
        : failure('IdempotentParameterMismatchException', 'the token was used with other parameters');
    }
    const items = (body.TransactItems ?? []) as Json[];
    const actions: { action: Action; input: Json; table: string; key: Json }[] = [];
    for (const item of items) {
      const [action, ...others] = Object.keys(item) as Action[];
      if (!action || others.length > 0 || !['Put', 'Update', 'Delete'].includes(action)) {
        return failure(
          'ValidationException',
          'the embedded engine emulates transactions of Put, Update and Delete actions only',
        );
      }
      const input = item[action] as Json;
      const table = String(input.TableName);
      const key =
        action === 'Put'
          ? Object.fromEntries((await keyNames(table)).map((name) => [name, (input.Item as Json)[name]]))
          : (input.Key as Json);
      actions.push({ action, input, table, key });
    }
    const identities = actions.map(({ table, key }) => JSON.stringify([table, key]));
    if (new Set(identities).size !== identities.length) {
      return failure(
        'ValidationException',
        'Transaction request cannot include multiple operations on one item',
      );
    }
    // Applied in order, each returning the item as it was; every action is tried, so that each
    // gets its own reason, as DynamoDB gives them.
    const applied: { table: string; key: Json; before: Json | undefined }[] = [];
    const reasons: Json[] = [];
    let failed: Answer | undefined;
    for (const { action, input, table, key } of actions) {
      const { ReturnValuesOnConditionCheckFailure: returnOld, ...single } = input;
      const answer = await call(`${action}Item`, { ...single, ReturnValues: 'ALL_OLD' });
      if (answer.status === 200) {
        applied.push({ table, key, before: answer.body.Attributes as Json | undefined });
        reasons.push({ Code: 'None' });
      } else if (String(answer.body.__type).endsWith('#ConditionalCheckFailedException')) {
        const found =
          returnOld === 'ALL_OLD'
            ? await call('GetItem', { TableName: table, Key: key, ConsistentRead: true })
            : undefined;
        reasons.push({
          Code: 'ConditionalCheckFailed',
          Message: 'The conditional request failed',
          ...(found?.body.Item ? { Item: found.body.Item } : {}),
        });
      } else {
        failed = answer; // a malformed action: the whole request is refused as it is
        break;
      }
    }
    if (failed || reasons.some((reason) => reason.Code !== 'None')) {
      for (const { table, key, before } of applied.reverse()) {
        const undone = before
          ? await call('PutItem', { TableName: table, Item: before })
          : await call('DeleteItem', { TableName: table, Key: key });
        if (undone.status !== 200) return undone;
      }
      return (
        failed ??
        failure(
          'TransactionCanceledException',
          `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((reason) => reason.Code).join(', ')}]`,
          { CancellationReasons: reasons },
        )
      );
    }
    if (token !== undefined) remembered.set(token, { digest, at: now });
    return { status: 200, body: {} };
  }

  return (incoming, outgoing) => {
    receive(incoming)
      .then(async (received) => {
        const target = String(received.headers['x-amz-target'] ?? '');
        if (target !== `${TARGET_PREFIX}TransactWriteItems`) {
          const release = await lock.shared();
          const end = outgoing.end.bind(outgoing) as (...args: unknown[]) => ServerResponse;
          outgoing.end = ((...args: unknown[]) => {
            release();
            return end(...args);
          }) as ServerResponse['end'];
          replay(dynalite, received, outgoing);
          return;
        }
        const release = await lock.exclusive();
        let answer: Answer;
        try {
          answer = await transact(JSON.parse(received.body.toString('utf8') || '{}'));
        } catch (error) {
          answer =
            (error as { answer?: Answer }).answer ?? failure('InternalServerError', String(error), {}, 500);
        } finally {
          release();
        }
        send(outgoing, answer);
      })
      .catch((error: unknown) => {
        if (!outgoing.headersSent) send(outgoing, failure('InternalServerError', String(error), {}, 500));
      });
  };
}

const failure = (type: string, message: string, extra: Json = {}, status = 400): Answer => ({
  status,
  body: { __type: `${ERROR_PREFIX}${type}`, message, ...extra },
});

/** The whole body of a request, from a socket or from the in-process client alike. */
function receive(incoming: IncomingMessage): Promise<Received> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () =>
      resolve({
        headers: incoming.headers,
        method: incoming.method,
        url: incoming.url,
        body: Buffer.concat(chunks),
      }),
    );
  });
}

/** Hands a request already read to dynalite, as a socket would: its body after it subscribed. */
function replay(dynalite: RequestListener, received: Received, outgoing: ServerResponse): void {
  const incoming = Object.assign(new EventEmitter(), {
    headers: received.headers,
    method: received.method,
    url: received.url,
  });
  dynalite(incoming as never, outgoing);
  process.nextTick(() => {
    if (received.body.length > 0) incoming.emit('data', received.body);
    incoming.emit('end');
  });
}

/** Answers as dynalite does (its headers, the CRC32 DynamoDB clients may check). */
function send(outgoing: ServerResponse, { status, body }: Answer): void {
  const text = JSON.stringify(body);
  outgoing.statusCode = status;
  outgoing.setHeader('x-amz-crc32', crc32(text));
  outgoing.setHeader('Content-Type', 'application/x-amz-json-1.0');
  outgoing.setHeader('Content-Length', Buffer.byteLength(text, 'utf8'));
  outgoing.end(text);
}

/**
 * Many requests at once, or one transaction alone: a transaction waits until the requests in
 * flight are answered, and requests that arrive meanwhile wait until it is done.
 */
class EngineLock {
  private readers = 0;
  private writing = false;
  private readonly waiting: { exclusive: boolean; grant: () => void }[] = [];

  shared(): Promise<() => void> {
    return this.enqueue(false);
  }

  exclusive(): Promise<() => void> {
    return this.enqueue(true);
  }

  private enqueue(exclusive: boolean): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push({
        exclusive,
        grant: () => {
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            if (exclusive) this.writing = false;
            else this.readers -= 1;
            this.next();
          });
        },
      });
      this.next();
    });
  }

  /** Grants in arrival order: readers together, a writer alone once the readers before it are done. */
  private next(): void {
    while (this.waiting.length > 0 && !this.writing) {
      const first = this.waiting[0] as (typeof this.waiting)[number];
      if (first.exclusive && this.readers > 0) return;
      this.waiting.shift();
      if (first.exclusive) this.writing = true;
      else this.readers += 1;
      first.grant();
      if (first.exclusive) return;
    }
  }
}
