import { randomBytes } from 'node:crypto';
import { defaults } from '../../config/defaults.ts';

/**
 * The stored password hash formats: PHC strings (github.com/P-H-C/phc-string-format) whose id
 * names the algorithm, so every user record says how its hash is verified. Parsing and
 * formatting only; verifying is the hasher adapter's job (node:crypto, @node-rs/argon2, bcryptjs).
 *
 *   argon2   $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>      (also argon2i, argon2d)
 *   bcrypt   $2b$10$<22-char salt><31-char hash>                (also $2a$, $2y$)
 *   PBKDF2   $pbkdf2-sha256$i=600000,l=32$<salt>$<hash>         (Auth0's form; sha1/224/256/384/512)
 *   scrypt   $scrypt$ln=14,r=8,p=1$<salt>$<hash>                (ln = log2 N, as passlib and @phc/scrypt)
 *
 * Salts and hashes in PHC strings are B64: standard base64 without padding.
 */

export type Argon2Variant = 'argon2id' | 'argon2i' | 'argon2d';
export type Pbkdf2Digest = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

export type ParsedHash =
  | {
      readonly algorithm: Argon2Variant;
      readonly version: number;
      readonly memoryCost: number;
      readonly timeCost: number;
      readonly parallelism: number;
    }
  | { readonly algorithm: 'bcrypt'; readonly cost: number }
  | {
      readonly algorithm: 'pbkdf2';
      readonly digest: Pbkdf2Digest;
      readonly iterations: number;
      readonly salt: Buffer;
      readonly hash: Buffer;
    }
  | {
      readonly algorithm: 'scrypt';
      readonly cost: number;
      readonly blockSize: number;
      readonly parallelization: number;
      readonly salt: Buffer;
      readonly hash: Buffer;
    };

export type PasswordHashAlgorithm = ParsedHash['algorithm'];

const PBKDF2_DIGESTS: readonly Pbkdf2Digest[] = ['sha1', 'sha224', 'sha256', 'sha384', 'sha512'];
/** Auth0 accepts these digests for PBKDF2; we refuse them by name rather than as unknown. */
const WEAK_DIGESTS = /^(rsa-)?(md4|md5|mdc2|ripemd|ripemd160|rmd160|ssl3-md5|whirlpool)/i;

/** Auth0: "If these parameters are omitted, they will default to i=100000 and l=64". */
export const AUTH0_PBKDF2_DEFAULTS = { iterations: 100_000, keylen: 64 } as const;

const limits = defaults.importedHashLimits;

/** B64 (PHC): standard base64 alphabet, no padding; a trailing `=` is tolerated and dropped. */
export function decodeB64(text: string): Buffer | undefined {
  const bare = text.replace(/={1,2}$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(bare)) return undefined;
  const bytes = Buffer.from(bare, 'base64');
  // Round trip: refuses lengths that cannot be base64 (4n+1) and non-canonical trailing bits.
  return bytes.toString('base64').replace(/=+$/, '') === bare ? bytes : undefined;
}

export const encodeB64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64').replace(/=+$/, '');

/** `a=1,b=2` → Map; undefined when a part is not `name=digits`. */
function numericParams(text: string): Map<string, number> | undefined {
  const params = new Map<string, number>();
  for (const part of text.split(',')) {
    const match = /^([a-z]+)=(\d{1,10})$/.exec(part);
    if (!match || params.has(match[1] as string)) return undefined;
    params.set(match[1] as string, Number(match[2]));
  }
  return params;
}

/** `m=1,t=2,p=3` holding exactly these names, each once: their values; undefined otherwise. */
function exactParams<N extends string>(text: string, names: readonly N[]): Record<N, number> | undefined {
  const values = numericParams(text);
  if (values?.size !== names.length || !names.every((name) => values.has(name))) return undefined;
  return Object.fromEntries(values) as Record<N, number>;
}

function keyProblem(salt: Buffer | undefined, hash: Buffer | undefined): string | undefined {
  if (!salt || salt.length === 0) return 'the salt is missing or not B64';
  if (salt.length > limits.maxKeyBytes)
    return `the salt is ${salt.length} bytes (at most ${limits.maxKeyBytes})`;
  if (!hash) return 'the hash is not B64';
  if (hash.length < limits.minKeyBytes || hash.length > limits.maxKeyBytes) {
    return `the hash is ${hash.length} bytes (${limits.minKeyBytes} to ${limits.maxKeyBytes} accepted)`;
  }
  return undefined;
}

function parseArgon2(variant: Argon2Variant, fields: string[]): ParsedHash | string {
  // $argon2id[$v=19]$m=..,t=..,p=..[,keyid=..,data=..]$salt$hash; without v= it is version 16.
  const withVersion = fields[0]?.startsWith('v=') ?? false;
  const version = withVersion ? Number(/^v=(16|19)$/.exec(fields[0] as string)?.[1]) : 16;
  const [params, salt, hash, ...rest] = withVersion ? fields.slice(1) : fields;
  if (version !== 16 && version !== 19) return `argon2 version ${fields[0]} is not 16 or 19`;
  if (params === undefined || salt === undefined || hash === undefined || rest.length > 0) {
    return 'not an argon2 PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)';
  }
  const values = exactParams(params, ['m', 't', 'p']);
  if (!values)
    return 'argon2 parameters must be m=, t= and p= (hashes with a keyid or data are not supported)';
  // What the argon2 verifier refuses is refused here, at import, not found out at each login.
  if (/=0\d/.test(params)) return 'argon2 parameters must not have leading zeros';
  if (salt.endsWith('=') || hash.endsWith('=')) return 'argon2 salt and hash must be B64 without padding';
  const { m: memoryCost, t: timeCost, p: parallelism } = values;
  const { maxMemoryKiB, maxTimeCost, maxParallelism } = limits.argon2;
  if (parallelism < 1 || parallelism > maxParallelism)
    return `argon2 p=${parallelism} is out of bounds (1-${maxParallelism})`;
  if (timeCost < 1 || timeCost > maxTimeCost)
    return `argon2 t=${timeCost} is out of bounds (1-${maxTimeCost})`;
  if (memoryCost < 8 * parallelism || memoryCost > maxMemoryKiB) {
    return `argon2 m=${memoryCost} is out of bounds (8·p to ${maxMemoryKiB} KiB)`;
  }
  const problem = keyProblem(decodeB64(salt), decodeB64(hash));
  if (problem) return `argon2: ${problem}`;
  // RFC 9106 §3.1: the salt is at least 8 bytes.
  if ((decodeB64(salt)?.length ?? 0) < 8) return 'argon2: the salt is shorter than 8 bytes';
  return { algorithm: variant, version, memoryCost, timeCost, parallelism };
}

function parseBcrypt(text: string): ParsedHash | string {
  // $2a$/$2b$/$2y$, two-digit cost, 22 characters of salt and 31 of hash in bcrypt's base64.
  const match = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/.exec(text);
  if (!match) return 'not a bcrypt hash ($2a$, $2b$ or $2y$, cost, 53 characters)';
  const cost = Number(match[1]);
  if (cost < 4 || cost > limits.bcrypt.maxCost) {
    return `bcrypt cost ${cost} is out of bounds (4-${limits.bcrypt.maxCost})`;
  }
  return { algorithm: 'bcrypt', cost };
}

function parsePbkdf2(digestName: string, fields: string[]): ParsedHash | string {
  const digest = digestName.toLowerCase() as Pbkdf2Digest;
  if (WEAK_DIGESTS.test(digestName)) return `PBKDF2 with ${digestName} is refused: a broken digest`;
  if (!PBKDF2_DIGESTS.includes(digest)) return `PBKDF2 digest "${digestName}" is not supported`;
  // Auth0: i= and l= may be omitted (defaults 100000 and 64); the parameters field may then be absent.
  const [params, salt, hash, ...rest] = fields.length === 2 ? ['', ...fields] : fields;
  if (params === undefined || salt === undefined || hash === undefined || rest.length > 0) {
    return 'not a PBKDF2 PHC string ($pbkdf2-<digest>$i=…,l=…$salt$hash)';
  }
  const values = params === '' ? new Map<string, number>() : numericParams(params);
  if (!values || [...values.keys()].some((key) => key !== 'i' && key !== 'l')) {
    return 'PBKDF2 parameters must be i= and l=';
  }
  const iterations = values.get('i') ?? AUTH0_PBKDF2_DEFAULTS.iterations;
  const keylen = values.get('l') ?? AUTH0_PBKDF2_DEFAULTS.keylen;
  if (iterations < 1 || iterations > limits.pbkdf2.maxIterations) {
    return `PBKDF2 i=${iterations} is out of bounds (1-${limits.pbkdf2.maxIterations})`;
  }
  const saltBytes = decodeB64(salt);
  const hashBytes = decodeB64(hash);
  const problem = keyProblem(saltBytes, hashBytes);
  if (problem) return `PBKDF2: ${problem}`;
  if (hashBytes?.length !== keylen) return `PBKDF2 l=${keylen} but the hash is ${hashBytes?.length} bytes`;
  return { algorithm: 'pbkdf2', digest, iterations, salt: saltBytes as Buffer, hash: hashBytes };
}

/** Why these scrypt parameters are refused, or undefined. */
export function scryptParametersProblem(cost: number, blockSize: number, parallelization: number) {
  if (!Number.isSafeInteger(cost) || cost < 2 || (cost & (cost - 1)) !== 0) {
    return `scrypt cost N=${cost} is not a power of two`;
  }
  if (!Number.isSafeInteger(blockSize) || blockSize < 1) return `scrypt blockSize r=${blockSize} is invalid`;
  if (!Number.isSafeInteger(parallelization) || parallelization < 1) {
    return `scrypt parallelization p=${parallelization} is invalid`;
  }
  if (parallelization > limits.scrypt.maxParallelization) {
    return `scrypt p=${parallelization} is out of bounds (1-${limits.scrypt.maxParallelization})`;
  }
  if (128 * cost * blockSize > limits.scrypt.maxMemoryBytes) {
    return `scrypt N=${cost}, r=${blockSize} needs more than ${limits.scrypt.maxMemoryBytes / 2 ** 20} MiB`;
  }
  return undefined;
}

function parseScrypt(fields: string[]): ParsedHash | string {
  const [params, salt, hash, ...rest] = fields;
  if (params === undefined || salt === undefined || hash === undefined || rest.length > 0) {
    return 'not a scrypt PHC string ($scrypt$ln=…,r=…,p=…$salt$hash)';
  }
  const values = exactParams(params, ['ln', 'r', 'p']);
  if (!values) return 'scrypt parameters must be ln=, r= and p=';
  const { ln, r: blockSize, p: parallelization } = values;
  if (ln < 1 || ln > 30) return `scrypt ln=${ln} is out of bounds`;
  const cost = 2 ** ln;
  const problem =
    scryptParametersProblem(cost, blockSize, parallelization) ?? keyProblem(decodeB64(salt), decodeB64(hash));
  if (problem) return problem.startsWith('scrypt') ? problem : `scrypt: ${problem}`;
  return {
    algorithm: 'scrypt',
    cost,
    blockSize,
    parallelization,
    salt: decodeB64(salt) as Buffer,
    hash: decodeB64(hash) as Buffer,
  };
}

/** The parsed hash, or why it is not one passgate can verify (a one-line reason). */
export function parsePasswordHash(text: string): ParsedHash | string {
  if (text.length > 4096) return 'the hash is too long';
  if (/^\$2[aby]\$/.test(text)) return parseBcrypt(text);
  if (/^\$2[a-z]?\$/.test(text))
    return `bcrypt prefix ${text.slice(0, 4)} is not supported ($2a$, $2b$, $2y$)`;
  const [empty, id, ...fields] = text.split('$');
  if (empty !== '' || id === undefined || id === '') return 'not a PHC string ($<algorithm>$…)';
  if (id === 'argon2id' || id === 'argon2i' || id === 'argon2d') return parseArgon2(id, fields);
  if (id.startsWith('pbkdf2-')) return parsePbkdf2(id.slice('pbkdf2-'.length), fields);
  if (id === 'pbkdf2') return 'PBKDF2 hashes must name their digest ($pbkdf2-sha256$…)';
  if (id === 'scrypt') return parseScrypt(fields);
  return `unknown algorithm "${id}"`;
}

export function formatPbkdf2(digest: Pbkdf2Digest, iterations: number, salt: Buffer, hash: Buffer): string {
  return `$pbkdf2-${digest}$i=${iterations},l=${hash.length}$${encodeB64(salt)}$${encodeB64(hash)}`;
}

export function formatScrypt(
  cost: number,
  blockSize: number,
  parallelization: number,
  salt: Buffer,
  hash: Buffer,
): string {
  const ln = Math.log2(cost);
  return `$scrypt$ln=${ln},r=${blockSize},p=${parallelization}$${encodeB64(salt)}$${encodeB64(hash)}`;
}

/**
 * A stored hash's cost class: its algorithm and every parameter that sets how long a verify takes,
 * written from the parsed values (so two spellings of one hash are one class) and without the salt,
 * whose length costs next to nothing: `$argon2id$v=19$m=19456,t=2,p=1$32`, `$2b$10`,
 * `$pbkdf2-sha256$i=100000,l=64`, `$scrypt$ln=14,r=8,p=1$32` (the last field: output bytes).
 * Two hashes of one class take the same time to verify. Undefined for a malformed hash.
 */
export function hashCostClass(text: string): string | undefined {
  const parsed = parsePasswordHash(text);
  if (typeof parsed === 'string') return undefined;
  switch (parsed.algorithm) {
    // $2a$, $2b$ and $2y$ differ in how old implementations handled one byte, not in cost.
    case 'bcrypt':
      return `$2b$${String(parsed.cost).padStart(2, '0')}`;
    case 'pbkdf2':
      return `$pbkdf2-${parsed.digest}$i=${parsed.iterations},l=${parsed.hash.length}`;
    case 'scrypt':
      return `$scrypt$ln=${Math.log2(parsed.cost)},r=${parsed.blockSize},p=${parsed.parallelization}$${parsed.hash.length}`;
    default: {
      const output = decodeB64(text.slice(text.lastIndexOf('$') + 1))?.length;
      const { algorithm, version: v, memoryCost: m, timeCost: t, parallelism: p } = parsed;
      return `$${algorithm}$v=${v}$m=${m},t=${t},p=${p}$${output}`;
    }
  }
}

/** bcrypt's own base64 alphabet. */
const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` random bytes in bcrypt's base64 (no padding; the last digit's unused bits zero, as bcrypt writes). */
function bcryptDigits(length: number): string {
  const bits = [...randomBytes(length)].map((byte) => byte.toString(2).padStart(8, '0')).join('');
  const digits = Math.ceil(bits.length / 6);
  return Array.from(
    { length: digits },
    (_, i) => BCRYPT_ALPHABET[Number.parseInt(bits.slice(i * 6, i * 6 + 6).padEnd(6, '0'), 2)],
  ).join('');
}

/**
 * A hash of `costClass` that no password matches: a random 16-byte salt and random output of the
 * class's length, made without hashing. Verifying it costs what verifying a real hash of the class
 * costs. Undefined when `costClass` is not one (a class is read from the store, so it is checked).
 */
export function dummyHashOf(costClass: string): string | undefined {
  const salt = encodeB64(randomBytes(16));
  const pbkdf2 = /^\$pbkdf2-[a-z0-9]+\$i=\d+,l=(\d+)$/.exec(costClass);
  const phc = /^(\$(?:argon2(?:id|i|d)|scrypt)\$.+)\$(\d+)$/.exec(costClass);
  const candidate = /^\$2b\$\d\d$/.test(costClass)
    ? `${costClass}$${bcryptDigits(16)}${bcryptDigits(23)}`
    : pbkdf2
      ? `${costClass}$${salt}$${randomOutput(pbkdf2[1] as string)}`
      : phc
        ? `${phc[1]}$${salt}$${randomOutput(phc[2] as string)}`
        : undefined;
  if (candidate === undefined || typeof parsePasswordHash(candidate) === 'string') return undefined;
  return hashCostClass(candidate) === costClass ? candidate : undefined;
}

/** Random output of a class's length; the parser then checks the length is within bounds. */
const randomOutput = (length: string) =>
  encodeB64(randomBytes(Math.min(Number(length), limits.maxKeyBytes + 1)));
