import { defaults } from '../../config/defaults.ts';
import { dummyHashOf, parsePasswordHash } from '../passwords/hash-format.ts';

/**
 * What one verify of a hash cost class takes on one core, estimated from its parameters. The token
 * function has one vCPU, so multi-lane argon2 and scrypt run their lanes one after the other there.
 * Measured on one core of an x86-64 AMD EPYC (docs/migrating-users.md), 26 Nov 2026:
 * argon2 m·t = 38,912 KiB·passes in 16.2 ms; bcryptjs cost 10 in 85 ms; PBKDF2 100,000 iterations
 * of one block in 37.5 (SHA-1), 29.6 (SHA-256) and 66.8 ms (SHA-512); scrypt N·r = 131,072 in 41 ms.
 */
const MS_PER = {
  argon2KiBPass: 1 / 2400,
  bcryptCost10: 85,
  pbkdf2Iteration: { sha1: 0.000375, sha224: 0.000296, sha256: 0.000296, sha384: 0.000668, sha512: 0.000668 },
  scryptBlock: 1 / 3200,
} as const;
const DIGEST_BYTES = { sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 } as const;

/** Estimated ms of one verify of `costClass` on one core; undefined when it is no class. */
export function estimatedVerifyMs(costClass: string): number | undefined {
  const dummy = dummyHashOf(costClass);
  const parsed = dummy === undefined ? 'none' : parsePasswordHash(dummy);
  if (typeof parsed === 'string') return undefined;
  switch (parsed.algorithm) {
    case 'bcrypt':
      return MS_PER.bcryptCost10 * 2 ** (parsed.cost - 10);
    case 'pbkdf2': {
      // RFC 8018 §5.2: one run of the iterations per digest-sized block of output.
      const blocks = Math.ceil(parsed.hash.length / DIGEST_BYTES[parsed.digest]);
      return parsed.iterations * blocks * MS_PER.pbkdf2Iteration[parsed.digest];
    }
    case 'scrypt':
      return parsed.cost * parsed.blockSize * parsed.parallelization * MS_PER.scryptBlock;
    default:
      return parsed.memoryCost * parsed.timeCost * MS_PER.argon2KiBPass;
  }
}

export interface CostClassAdmission {
  /** Admitted, cheapest first. */
  readonly admitted: readonly string[];
  /** Each refused class with its estimate and what the realm's failed login already spends. */
  readonly refused: ReadonlyMap<string, { readonly ms: number; readonly spentMs: number }>;
}

/**
 * Every failed login in a realm verifies one hash of each class the realm holds, so the classes a
 * realm takes on must keep that within `defaults.failedLoginVerifyBudgetMs`: `candidates` are
 * admitted cheapest first while the estimated total, the current class and the `recorded` ones
 * included, stays within it. A class without an estimate is no class and is refused.
 */
export function admitCostClasses(
  current: string,
  recorded: readonly string[],
  candidates: readonly string[],
): CostClassAdmission {
  let spentMs = 0;
  for (const costClass of new Set([current, ...recorded])) spentMs += estimatedVerifyMs(costClass) ?? 0;
  const admitted: string[] = [];
  const refused = new Map<string, { ms: number; spentMs: number }>();
  const fresh = [...new Set(candidates)].filter(
    (costClass) => costClass !== current && !recorded.includes(costClass),
  );
  const priced = fresh.map((costClass) => ({
    costClass,
    ms: estimatedVerifyMs(costClass) ?? Number.POSITIVE_INFINITY,
  }));
  for (const { costClass, ms } of priced.sort((a, b) => a.ms - b.ms)) {
    if (spentMs + ms <= defaults.failedLoginVerifyBudgetMs) {
      admitted.push(costClass);
      spentMs += ms;
    } else refused.set(costClass, { ms, spentMs });
  }
  return { admitted, refused };
}
