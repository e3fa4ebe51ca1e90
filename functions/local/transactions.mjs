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
 *
 * Plain JavaScript: it runs in the engine's thread (store-thread.mjs), which has no TypeScript
 * loader; the store tests put it in front of their own dynalite too (test/helpers/dynamodb.ts).
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { crc32 } from 'node:zlib';

const TARGET_PREFIX = 'DynamoDB_20120810.';
const ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';
/** How long DynamoDB remembers a ClientRequestToken. */
const IDEMPOTENCY_MS = 10 * 60 * 1000;
const ACTIONS = ['Put', 'Update', 'Delete'];

/**
 * @typedef {{ method: string, path: string, headers: Record<string, string>, body: string }} EngineRequest
 * @typedef {{ statusCode: number, headers: Record<string, string>, body: string }} EngineResponse
 * @typedef {{ status: number, body: Record<string, any> }} Answer
 */

/**
 * Gives one request to a request listener (dynalite's, or the one withTransactions returns).
 * dynalite reads `headers`, `method`, `url` and the body events of its request, and answers with
 * `statusCode`, `setHeader` and `end`; that is all this hands it. Bodies are DynamoDB's JSON, as
 * strings.
 * @param {import('node:http').RequestListener} listener
 * @param {EngineRequest} request
 * @returns {Promise<EngineResponse>}
 */
export function askEngine(listener, request) {
  return new Promise((resolve) => {
    const incoming = Object.assign(new EventEmitter(), {
      headers: request.headers,
      method: request.method,
      url: request.path,
    });
    /** @type {Record<string, string>} */
    const headers = {};
    const outgoing = {
      statusCode: 200,
      /** @param {string} name @param {string | number} value */
      setHeader(name, value) {
        headers[name.toLowerCase()] = String(value);
      },
      /** @param {string} [body] */
      end(body) {
        resolve({ statusCode: outgoing.statusCode, headers, body: body ?? '' });
      },
    };
    listener(/** @type {never} */ (incoming), /** @type {never} */ (outgoing));
    // As from a socket: the body arrives after the listener has subscribed to it.
    process.nextTick(() => {
      if (request.body.length > 0) incoming.emit('data', Buffer.from(request.body, 'utf8'));
      incoming.emit('end');
    });
  });
}

/**
 * dynalite's listener with TransactWriteItems answered by emulation. Give every request to the
 * engine (its HTTP port's and the local server's) to this one listener, so that they share its lock.
 * @param {import('node:http').RequestListener} dynalite
 * @returns {import('node:http').RequestListener}
 */
export function withTransactions(dynalite) {
  const lock = new EngineLock();
  /** @type {Map<string, { digest: string, at: number }>} */
  const remembered = new Map();
  /** @type {Map<string, Promise<string[]>>} */
  const tableKeys = new Map();

  /**
   * One single-item request to dynalite, while the transaction holds the engine. dynalite checks
   * that a request carries SigV4's fields but verifies no signature.
   * @param {string} operation
   * @param {Record<string, unknown>} input
   * @returns {Promise<Answer>}
   */
  const call = async (operation, input) => {
    const now = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const response = await askEngine(dynalite, {
      method: 'POST',
      path: '/',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `${TARGET_PREFIX}${operation}`,
        host: 'localhost',
        'x-amz-date': now,
        authorization: `AWS4-HMAC-SHA256 Credential=engine/${now.slice(0, 8)}/local/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=unsigned`,
      },
      body: JSON.stringify(input),
    });
    return { status: response.statusCode, body: JSON.parse(response.body || '{}') };
  };

  /** @param {string} table */
  const keyNames = (table) => {
    let names = tableKeys.get(table);
    if (!names) {
      names = call('DescribeTable', { TableName: table }).then(({ status, body }) => {
        if (status !== 200) throw Object.assign(new Error('no such table'), { answer: { status, body } });
        return body.Table.KeySchema.map((/** @type {{ AttributeName: string }} */ key) => key.AttributeName);
      });
      names.catch(() => tableKeys.delete(table));
      tableKeys.set(table, names);
    }
    return names;
  };

  /**
   * @param {Record<string, any>} body
   * @returns {Promise<Answer>}
   */
  async function transact(body) {
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
    /** @type {{ action: string, input: Record<string, any>, table: string, key: Record<string, unknown> }[]} */
    const actions = [];
    for (const item of body.TransactItems ?? []) {
      const [action, ...others] = Object.keys(item);
      if (!action || others.length > 0 || !ACTIONS.includes(action)) {
        return failure(
          'ValidationException',
          'the embedded engine emulates transactions of Put, Update and Delete actions only',
        );
      }
      const input = item[action];
      const table = String(input.TableName);
      const key =
        action === 'Put'
          ? Object.fromEntries((await keyNames(table)).map((name) => [name, input.Item[name]]))
          : input.Key;
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
    /** @type {{ table: string, key: Record<string, unknown>, before: Record<string, unknown> | undefined }[]} */
    const applied = [];
    /** @type {Record<string, unknown>[]} */
    const reasons = [];
    /** @type {Answer | undefined} */
    let refused;
    for (const { action, input, table, key } of actions) {
      const { ReturnValuesOnConditionCheckFailure: returnOld, ...single } = input;
      const answer = await call(`${action}Item`, { ...single, ReturnValues: 'ALL_OLD' });
      if (answer.status === 200) {
        applied.push({ table, key, before: answer.body.Attributes });
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
        refused = answer; // a malformed action: the whole request is refused as it is
        break;
      }
    }
    if (refused || reasons.some((reason) => reason.Code !== 'None')) {
      for (const { table, key, before } of applied.reverse()) {
        const undone = before
          ? await call('PutItem', { TableName: table, Item: before })
          : await call('DeleteItem', { TableName: table, Key: key });
        if (undone.status !== 200) return undone;
      }
      return (
        refused ??
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
        if (received.headers['x-amz-target'] !== `${TARGET_PREFIX}TransactWriteItems`) {
          const release = await lock.shared();
          const end = outgoing.end.bind(outgoing);
          outgoing.end = /** @type {typeof outgoing.end} */ (
            (/** @type {any[]} */ ...args) => {
              release();
              return end(...args);
            }
          );
          replay(dynalite, received, outgoing);
          return;
        }
        const release = await lock.exclusive();
        /** @type {Answer} */
        let answer;
        try {
          answer = await transact(JSON.parse(received.body.toString('utf8') || '{}'));
        } catch (error) {
          answer =
            /** @type {{ answer?: Answer }} */ (error).answer ??
            failure('InternalServerError', String(error), {}, 500);
        } finally {
          release();
        }
        send(outgoing, answer);
      })
      .catch((error) => {
        if (!outgoing.headersSent) send(outgoing, failure('InternalServerError', String(error), {}, 500));
      });
  };
}

/**
 * @param {string} type
 * @param {string} message
 * @param {Record<string, unknown>} [extra]
 * @param {number} [status]
 * @returns {Answer}
 */
const failure = (type, message, extra = {}, status = 400) => ({
  status,
  body: { __type: `${ERROR_PREFIX}${type}`, message, ...extra },
});

/**
 * The whole body of a request, from a socket or from askEngine alike.
 * @param {import('node:http').IncomingMessage} incoming
 * @returns {Promise<{ headers: import('node:http').IncomingHttpHeaders, method?: string, url?: string, body: Buffer }>}
 */
function receive(incoming) {
  return new Promise((resolve) => {
    /** @type {Buffer[]} */
    const chunks = [];
    incoming.on('data', (chunk) => chunks.push(chunk));
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

/**
 * Hands a request already read to dynalite, as a socket would: its body after it subscribed.
 * @param {import('node:http').RequestListener} dynalite
 * @param {{ headers: import('node:http').IncomingHttpHeaders, method?: string, url?: string, body: Buffer }} received
 * @param {import('node:http').ServerResponse} outgoing
 */
function replay(dynalite, received, outgoing) {
  const incoming = Object.assign(new EventEmitter(), {
    headers: received.headers,
    method: received.method,
    url: received.url,
  });
  dynalite(/** @type {never} */ (incoming), outgoing);
  process.nextTick(() => {
    if (received.body.length > 0) incoming.emit('data', received.body);
    incoming.emit('end');
  });
}

/**
 * Answers as dynalite does (its headers, the CRC32 DynamoDB clients may check).
 * @param {import('node:http').ServerResponse} outgoing
 * @param {Answer} answer
 */
function send(outgoing, { status, body }) {
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
  readers = 0;
  writing = false;
  /** @type {{ exclusive: boolean, grant: () => void }[]} */
  waiting = [];

  /** @returns {Promise<() => void>} */
  shared() {
    return this.enqueue(false);
  }

  /** @returns {Promise<() => void>} */
  exclusive() {
    return this.enqueue(true);
  }

  /**
   * @param {boolean} exclusive
   * @returns {Promise<() => void>}
   */
  enqueue(exclusive) {
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
  next() {
    while (this.waiting.length > 0 && !this.writing) {
      const first = this.waiting[0];
      if (first.exclusive && this.readers > 0) return;
      this.waiting.shift();
      if (first.exclusive) this.writing = true;
      else this.readers += 1;
      first.grant();
      if (first.exclusive) return;
    }
  }
}
