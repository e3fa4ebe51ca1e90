/**
 * Every command of the operator CLI with its flags and an example: the one source of `passgate
 * help`, `passgate <command> --help`, and of the check that a flag belongs to its command.
 */
export interface CommandHelp {
  /** `users create`, `clients secret`. */
  readonly name: string;
  readonly summary: string;
  /** The command's own flags, beside the ones every command takes (GLOBAL_FLAGS). */
  readonly flags: readonly string[];
  /** Flags given as `--flag VALUE`, shown in the usage line; the others are switches or optional. */
  readonly usage: string;
  readonly example: string;
}

const user = '--realm R --username U';

export const COMMANDS: readonly CommandHelp[] = [
  {
    name: 'users create',
    summary: 'create a user; the password comes from a hidden prompt or all of stdin',
    flags: ['realm', 'username', 'email', 'name', 'password-stdin'],
    usage: `${user} [--email E] [--name N] [--password-stdin]`,
    example:
      'printf "correct horse battery staple" | passgate users create --realm customers --username alice --password-stdin',
  },
  {
    name: 'users get',
    summary: "show a user (never the password's hash)",
    flags: ['realm', 'username'],
    usage: user,
    example: 'passgate users get --realm customers --username alice --json',
  },
  {
    name: 'users delete',
    summary: 'delete a user and end their refresh tokens',
    flags: ['realm', 'username'],
    usage: user,
    example: 'passgate users delete --realm customers --username alice',
  },
  {
    name: 'users block',
    summary: 'refuse every login of the user and end their refresh tokens',
    flags: ['realm', 'username'],
    usage: user,
    example: 'passgate users block --realm customers --username alice',
  },
  {
    name: 'users unblock',
    summary: 'lift a block, including the one brute-force protection set',
    flags: ['realm', 'username'],
    usage: user,
    example: 'passgate users unblock --realm customers --username alice',
  },
  {
    name: 'users set-password',
    summary: "set a new password and end the user's refresh tokens",
    flags: ['realm', 'username', 'password-stdin'],
    usage: `${user} [--password-stdin]`,
    example: 'passgate users set-password --realm customers --username alice',
  },
  {
    name: 'users list',
    summary: 'list the users of a realm',
    flags: ['realm'],
    usage: '--realm R',
    example: 'passgate users list --realm customers',
  },
  {
    name: 'users grant',
    summary: 'set the permissions a user holds on an API that enforces permissions ("" removes them)',
    flags: ['realm', 'username', 'api', 'scopes'],
    usage: `${user} --api A --scopes "s1 s2"`,
    example:
      'passgate users grant --realm customers --username alice --api https://api.example.com/ --scopes "read:orders"',
  },
  {
    name: 'users import',
    summary:
      "import users in Auth0's bulk-import format, a JSON array or JSON Lines (docs/migrating-users.md)",
    flags: ['realm', 'upsert', 'concurrency'],
    usage: '--realm R FILE [--upsert] [--concurrency N]',
    example: 'passgate users import --realm customers users.json',
  },
  {
    name: 'users hash-classes',
    summary: 'count the users per kind of password hash; --prune forgets kinds no user has',
    flags: ['realm', 'prune'],
    usage: '--realm R [--prune]',
    example: 'passgate users hash-classes --realm customers',
  },
  {
    name: 'users mfa',
    summary:
      "list the user's MFA authenticators, or reset them (removes authenticators and recovery code, ends refresh tokens)",
    flags: ['realm', 'username'],
    usage: `list|reset ${user}`,
    example: 'passgate users mfa reset --realm customers --username alice',
  },
  {
    name: 'users verify-email',
    summary: "mark the user's email address verified, as its verification link would",
    flags: ['realm', 'username'],
    usage: user,
    example: 'passgate users verify-email --realm customers --username alice@example.com',
  },
  {
    name: 'users resend-verification',
    summary: "mail the user a new verification link (locally: the data dir's outbox)",
    flags: ['realm', 'username'],
    usage: user,
    example: 'passgate users resend-verification --realm customers --username alice@example.com',
  },
  {
    name: 'clients secret',
    summary: 'make a client secret (shown once) and the clientSecretHash for the config',
    flags: [],
    usage: '',
    example: 'passgate clients secret',
  },
];

/** Flags every command takes. */
export const GLOBAL_FLAGS = ['json', 'quiet', 'stack', 'help'] as const;

const GLOBAL_HELP = `Every command takes:
  --json        print one JSON document on stdout (and nothing else on stderr but errors)
  --quiet       do not say on stderr which local store the command uses
  --stack NAME  work on a deployed stack's tables instead of the local store (found from its
                CloudFormation outputs; AWS credentials and region from AWS_PROFILE, AWS_REGION, ~/.aws)
  --help        this command's usage

Environment: PASSGATE_CONFIG (config file), PASSGATE_DATA_DIR (local data dir). Without
PASSGATE_DATA_DIR the CLI uses the data dir of the local server running from this checkout
(\`npm start\` records it in PASSGATE_SERVER_FILE, .passgate-server.json by default), else .passgate/.`;

export function commandHelp(command: CommandHelp): string {
  return [
    `usage: passgate ${command.name}${command.usage ? ` ${command.usage}` : ''} [--json] [--quiet] [--stack NAME]`,
    '',
    `  ${command.summary}`,
    '',
    'example:',
    `  ${command.example}`,
    '',
    GLOBAL_HELP,
  ].join('\n');
}

export function generalHelp(version: string): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    `passgate ${version}: the operator CLI of a passgate authorization server`,
    '',
    'usage: passgate <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    `  ${'help [command]'.padEnd(width)}  this text, or a command's usage with an example`,
    '',
    "Run `passgate <command> --help` for a command's flags and an example.",
    '',
    GLOBAL_HELP,
  ].join('\n');
}

/** The closest of `candidates` to a mistyped `word`, when it is close enough to be what was meant. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  // Past a third of the word's length the "suggestion" is a guess, not a typo's correction.
  return best && best.distance <= Math.max(2, Math.floor(word.length / 3)) ? best.candidate : undefined;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] as number;
}
