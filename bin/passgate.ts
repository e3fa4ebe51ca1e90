/** `npx passgate …`: the operator CLI (docs/reference.md, "CLI"). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { documentClient } from '../functions/adapters/dynamodb/client.ts';
import { dynamoStores } from '../functions/adapters/dynamodb/stores.ts';
import { mailSender } from '../functions/adapters/mail/mail-sender.ts';
import { SesMailer } from '../functions/adapters/mail/ses-mailer.ts';
import { Argon2Hasher } from '../functions/adapters/passwords/argon2-hasher.ts';
import {
  AdminError,
  type AdminServices,
  createUser,
  deleteUser,
  getUser,
  grantPermissions,
  type HashClassUse,
  hashClasses,
  listMfa,
  listUsers,
  publicUser,
  resendVerification,
  resetMfa,
  setBlocked,
  setPassword,
  verifyEmail,
} from '../functions/admin/user-admin.ts';
import { ConfigError } from '../functions/config/config-file.ts';
import { loadConfigFile } from '../functions/config/load.ts';
import { openLocalStore } from '../functions/local/embedded-store.ts';
import { localAdminServices } from '../functions/local/local-services.ts';
import { cliPaths, repoRoot } from '../functions/local/paths.ts';
import { runningServer } from '../functions/local/server-record.ts';
import { newClientSecret } from '../functions/oauth/client-auth.ts';
import type { Authenticator } from '../functions/oauth/mfa/mfa-api.ts';
import { type PasswordHasher, systemClock, type UserRecord } from '../functions/oauth/ports.ts';
import type { Services } from '../functions/oauth/services.ts';
import { noLoginCounters } from '../functions/runtime/refusing-stand-ins.ts';
import {
  COMMANDS,
  type CommandHelp,
  closest,
  commandHelp,
  GLOBAL_FLAGS,
  generalHelp,
} from './cli/commands.ts';
import { counterHashKeyOfStack, describeDeployedStack } from './cli/deployed-stack.ts';
import { importFile } from './cli/import-command.ts';
import { formatImportReport } from './cli/import-report.ts';
import { readNewPassword } from './cli/read-password.ts';

class UsageError extends Error {}

const VERSION = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;

const OPTIONS = {
  realm: { type: 'string' },
  username: { type: 'string' },
  email: { type: 'string' },
  name: { type: 'string' },
  api: { type: 'string' },
  scopes: { type: 'string' },
  stack: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  upsert: { type: 'boolean' },
  prune: { type: 'boolean' },
  concurrency: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** A usage error's message with the closest valid word, when a typo is the likely cause. */
const didYouMean = (message: string, word: string, candidates: readonly string[], prefix = '') => {
  const suggestion = closest(word, candidates);
  return suggestion === undefined ? message : `${message}; did you mean ${prefix}${suggestion}?`;
};

function parseCommandLine() {
  try {
    return parseArgs({ allowPositionals: true, strict: true, options: OPTIONS });
  } catch (error) {
    const unknown = (error as Error).message.match(/Unknown option '-{1,2}([^']+)'/)?.[1];
    const message =
      unknown === undefined
        ? (error as Error).message
        : didYouMean(`unknown option --${unknown}`, unknown, Object.keys(OPTIONS), '--');
    process.stderr.write(`passgate: ${message}\nRun \`passgate help\` for the commands and their options.\n`);
    process.exit(2);
  }
}

const { values: options, positionals } = parseCommandLine();

/** The command named by the first two words, or a usage error naming the closest valid one. */
function commandOf(group: string, action: string | undefined): CommandHelp {
  const command = COMMANDS.find((candidate) => candidate.name === `${group} ${action ?? ''}`);
  if (command) return command;
  const groups = [...new Set(COMMANDS.map((candidate) => candidate.name.split(' ')[0] as string)), 'help'];
  if (!groups.includes(group)) {
    throw new UsageError(didYouMean(`unknown command "${group}"`, group, groups));
  }
  const actions = COMMANDS.filter((candidate) => candidate.name.startsWith(`${group} `)).map((candidate) =>
    candidate.name.slice(group.length + 1),
  );
  if (action === undefined) throw new UsageError(`"${group}" needs one of: ${actions.join(', ')}`);
  throw new UsageError(didYouMean(`unknown command "${group} ${action}"`, action, actions, `${group} `));
}

/** Refuses a flag the command does not take (`users list --username`), naming its own flags. */
function checkFlags(command: CommandHelp) {
  const allowed: readonly string[] = [...command.flags, ...GLOBAL_FLAGS];
  for (const flag of Object.keys(options)) {
    if (allowed.includes(flag)) continue;
    const message = `${command.name} takes no --${flag}`;
    throw new UsageError(didYouMean(message, flag, command.flags, '--'));
  }
}

function required(name: 'realm' | 'username' | 'api'): string {
  const value = options[name];
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** Prints a result: one JSON document with --json, a readable line otherwise. */
function print(document: unknown, text: string) {
  process.stdout.write(options.json ? `${JSON.stringify(document, null, 2)}\n` : `${text}\n`);
}

const describe = (user: UserRecord) =>
  `${user.username} (${user.realm}|${user.user_id})${user.blocked ? ' [blocked]' : ''}` +
  `${user.email ? ` <${user.email}>` : ''}, ${user.logins_count} login(s)`;

/**
 * Runs an admin command on the local store, or on a deployed stack's tables with `--stack`. There,
 * the brute-force counters (and the Secrets Manager read of their key) are only for the commands
 * that lift blocks: the others work with read-and-write access to the tables alone.
 */
/** What a command works with: the stores, the mailer, and the issuer that links in mails start with. */
type CliServices = AdminServices & Pick<Services, 'mfa' | 'tickets' | 'mailer'> & { readonly issuer: string };

async function withServices<T>(
  run: (services: CliServices) => Promise<T>,
  needs: { counters?: boolean; hasher?: PasswordHasher } = {},
): Promise<T> {
  const paths = cliPaths();
  const { configPath, dataDir, source } = paths;
  const config = loadConfigFile(configPath); // a bad config is reported before any store is opened
  const hasher = needs.hasher ?? new Argon2Hasher();
  if (options.stack !== undefined) {
    const deployed = await describeDeployedStack(options.stack);
    const counters = needs.counters
      ? { counterHashKey: await counterHashKeyOfStack(options.stack, deployed) }
      : noLoginCounters;
    const db = documentClient();
    const ses = new SESv2Client({});
    try {
      return await run({
        config,
        ...dynamoStores(db, deployed.tableNames),
        ...counters,
        hasher,
        mailer: new SesMailer(ses, () => mailSender(config)),
        clock: systemClock,
        issuer: deployed.issuer,
      });
    } finally {
      db.destroy();
      ses.destroy();
    }
  }
  // Said every time: a server and a CLI on two data dirs would each look right and disagree.
  if (!options.json && !options.quiet) process.stderr.write(`passgate: local store ${dataDir} (${source})\n`);
  const store = await openLocalStore(dataDir);
  // Links point at the local server that runs from this checkout, or where `npm start` would listen.
  const issuer = runningServer(paths.serverRecord)?.issuer ?? `http://localhost:${process.env.PORT || 3000}/`;
  try {
    return await run({ ...localAdminServices({ configPath, dataDir, store }), hasher, issuer });
  } finally {
    await store.close();
  }
}

const describeAuthenticator = (authenticator: Authenticator) =>
  `${authenticator.id} ${authenticator.authenticator_type}${authenticator.active ? '' : ' (not confirmed yet)'}`;

async function mfaCommand(action: string | undefined): Promise<void> {
  const realm = required('realm');
  const username = required('username');
  if (action === 'list') {
    const { user, authenticators } = await withServices((s) => listMfa(s, realm, username));
    return print(
      { user_id: user.user_id, mfa_active: user.mfa_active === true, authenticators },
      authenticators.map(describeAuthenticator).join('\n') || `(${describe(user)} has no authenticator)`,
    );
  }
  if (action === 'reset') {
    const user = await withServices((s) => resetMfa(s, realm, username));
    return print(
      publicUser(user),
      `removed the authenticators of ${describe(user)}; their refresh tokens no longer work`,
    );
  }
  throw new UsageError(`unknown command "users mfa ${action ?? ''}"`);
}

async function usersCommand(action: string | undefined): Promise<void> {
  switch (action) {
    case 'create': {
      const realm = required('realm');
      const username = required('username');
      const password = await readNewPassword(options['password-stdin'] ?? false);
      const user = await withServices((services) =>
        createUser(services, { realm, username, password, email: options.email, name: options.name }),
      );
      return print(
        publicUser(user),
        `created user ${user.username} in realm ${user.realm} (id ${user.user_id})`,
      );
    }
    case 'get': {
      const user = await withServices((s) => getUser(s, required('realm'), required('username')));
      return print(publicUser(user), describe(user));
    }
    case 'delete': {
      const user = await withServices((s) => deleteUser(s, required('realm'), required('username')));
      return print(publicUser(user), `deleted ${describe(user)}; their refresh tokens no longer work`);
    }
    case 'block':
    case 'unblock': {
      const user = await withServices(
        (s) => setBlocked(s, required('realm'), required('username'), action === 'block'),
        { counters: action === 'unblock' },
      );
      const ended = action === 'block' ? '; their refresh tokens no longer work' : '';
      return print(publicUser(user), `${action}ed ${describe(user)}${ended}`);
    }
    case 'set-password': {
      const realm = required('realm');
      const username = required('username');
      const password = await readNewPassword(options['password-stdin'] ?? false);
      const user = await withServices((s) => setPassword(s, realm, username, password), { counters: true });
      return print(
        publicUser(user),
        `password changed for ${describe(user)}; their refresh tokens no longer work`,
      );
    }
    case 'mfa':
      return mfaCommand(positionals[2]);
    case 'verify-email': {
      const user = await withServices((s) => verifyEmail(s, required('realm'), required('username')));
      return print(publicUser(user), `the address of ${describe(user)} is verified`);
    }
    case 'resend-verification': {
      const user = await withServices((s) =>
        resendVerification(s, required('realm'), required('username'), s.issuer),
      );
      return print(publicUser(user), `sent a new verification link to ${user.email} for ${describe(user)}`);
    }
    case 'list': {
      const users = await withServices((s) => listUsers(s, required('realm')));
      return print(users.map(publicUser), users.map(describe).join('\n') || '(no users)');
    }
    case 'grant': {
      // The user's permissions on the API become exactly these; "" removes them all.
      const scopes = options.scopes;
      if (scopes === undefined)
        throw new UsageError('--scopes is required (--scopes "" removes every permission)');
      const { user, enforced } = await withServices(async (s) => ({
        user: await grantPermissions(s, required('realm'), required('username'), required('api'), scopes),
        enforced: s.config.apis.some((api) => api.identifier === required('api') && api.enforcePermissions),
      }));
      if (!enforced) {
        // Stored all the same, so that turning enforcement on later finds the grants in place.
        process.stderr.write(
          `passgate: note: ${required('api')} does not enforce permissions ("enforcePermissions": false), so its tokens carry every scope the client asks for, whatever the user holds\n`,
        );
      }
      const granted = user.permissions[required('api')] ?? [];
      return print(
        publicUser(user),
        `${user.username} now holds on ${required('api')}: ${granted.join(' ') || '(none)'}`,
      );
    }
    case 'import': {
      const file = positionals[2];
      if (file === undefined || positionals.length > 3) throw new UsageError('users import takes one FILE');
      const concurrency = Number(options.concurrency ?? 32);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) {
        throw new UsageError('--concurrency must be an integer from 1 to 1000');
      }
      const report = await importFile(
        {
          realm: required('realm'),
          file,
          upsert: options.upsert ?? false,
          concurrency,
          json: options.json ?? false,
        },
        withServices,
      );
      if (report === undefined) return print({ total: 0 }, `0 users in file ${file}; nothing imported`);
      print(report, formatImportReport(report));
      // The report is printed either way; a rejected or failed row makes the exit status 1.
      if (report.rejected + report.failed > 0) {
        process.stderr.write(`passgate: ${report.rejected} row(s) rejected, ${report.failed} failed\n`);
        process.exitCode = 1;
      }
      return;
    }
    case 'hash-classes': {
      const realm = required('realm');
      const result = await withServices((s) => hashClasses(s, realm, options.prune ?? false));
      const notes = ({ costClass, recorded, current }: HashClassUse) =>
        [
          current && '(new hashes)',
          recorded && '(verified by every failed login)',
          result.recordedNow.includes(costClass) && '(recorded now)',
          result.overBudget.includes(costClass) && '(over the budget: these users must set a new password)',
          result.forgotten.includes(costClass) && '(forgotten now: no user has it)',
        ].filter(Boolean);
      const line = (use: HashClassUse) =>
        [
          `  ${use.costClass}  ${use.users.toLocaleString('en-US')} user(s)`,
          use.estimatedMs === undefined ? '' : `  ~${Math.round(use.estimatedMs)} ms`,
          ...notes(use).map((note) => `  ${note}`),
        ].join('');
      const lines = result.classes.length > 0 ? result.classes.map(line) : ['  (no users)'];
      print({ realm, ...result }, [`realm "${realm}":`, ...lines].join('\n'));
      if (result.overBudget.length > 0) {
        // Those users' wrong passwords take longer than an unknown username's: the operator acts.
        process.stderr.write(
          `passgate: ${result.overBudget.length} kind(s) of hash past the failed-login budget; see docs/migrating-users.md, "Failed logins while imported hashes remain"\n`,
        );
        process.exitCode = 1;
      }
      return;
    }
    default:
      throw new UsageError(`unknown command "users ${action ?? ''}"`);
  }
}

async function main(): Promise<void> {
  const [group, action, topic] = positionals;
  if (options.version) return void process.stdout.write(`${VERSION}\n`);
  if (group === undefined || (group === 'help' && action === undefined)) {
    return void process.stdout.write(`${generalHelp(VERSION)}\n`);
  }
  if (group === 'help')
    return void process.stdout.write(`${commandHelp(commandOf(action as string, topic))}\n`);
  const command = commandOf(group, action);
  if (options.help) return void process.stdout.write(`${commandHelp(command)}\n`);
  checkFlags(command);
  if (group === 'users') return usersCommand(action);
  const { secret, clientSecretHash } = newClientSecret();
  return print(
    { client_secret: secret, clientSecretHash },
    `client_secret (shown once, give it to the client): ${secret}\nclientSecretHash (put it in the config):   ${clientSecretHash}`,
  );
}

try {
  await main();
} catch (error) {
  if (error instanceof UsageError) {
    const [group, action] = positionals;
    const known = COMMANDS.some((command) => command.name === `${group} ${action}`);
    const more = known ? `passgate ${group} ${action} --help` : 'passgate help';
    process.stderr.write(`passgate: ${error.message}\nRun \`${more}\` for the usage and an example.\n`);
    process.exit(2);
  }
  const known = error instanceof AdminError || error instanceof ConfigError;
  process.stderr.write(`passgate: ${known ? error.message : `failed: ${(error as Error).message}`}\n`);
  process.exit(1);
}
