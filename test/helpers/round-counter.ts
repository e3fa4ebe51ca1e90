/**
 * Counts the sequential rounds of store and signer calls a grant makes, without timing anything:
 * every call of a wrapped port takes exactly one tick of a virtual clock. A call started at tick t
 * is answered at t + 1; the clock moves on only when nothing else can run, so calls started side
 * by side share a tick and a call that waits for another's answer starts a tick later. The clock's
 * last tick is the number of rounds a grant would wait for if every AWS call took the same time.
 */
import type { Services } from '../../functions/oauth/services.ts';

/** Turns of the event loop with nothing new started before the clock may move on. */
const QUIET_TURNS = 5;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class RoundCounter {
  private now = 0;
  private inFlight = 0;
  private startedSinceQuiet = 0;
  private readonly waiting: { at: number; release: () => void }[] = [];
  private ticking = false;
  /** Every call, in the order it started: `users.findByUsername@1` is one started at tick 0. */
  readonly calls: string[] = [];

  /** The ticks taken so far: the rounds of everything run since `reset`. */
  get rounds(): number {
    return this.now;
  }

  reset(): void {
    this.now = 0;
    this.calls.length = 0;
  }

  /** `port` with every method counted as one round trip. */
  wrap<T extends object>(name: string, port: T, only?: readonly (keyof T)[]): T {
    return new Proxy(port, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || (only && !only.includes(property as keyof T))) return value;
        return (...args: unknown[]) =>
          this.call(`${name}.${String(property)}`, () => value.apply(target, args));
      },
    });
  }

  /**
   * The services with their stores, the signer's `sign` and the sealer's `open` and `seal` (KMS
   * round trips) counted.
   */
  wrapServices(services: Services): Services {
    return {
      ...services,
      users: this.wrap('users', services.users),
      attempts: this.wrap('attempts', services.attempts),
      refreshTokens: this.wrap('refreshTokens', services.refreshTokens),
      signIns: this.wrap('signIns', services.signIns),
      mfa: this.wrap('mfa', services.mfa),
      dpopProofs: this.wrap('dpopProofs', services.dpopProofs),
      signer: this.wrap('signer', services.signer, ['sign']),
      sealer: this.wrap('sealer', services.sealer, ['open', 'seal']),
    };
  }

  private async call<R>(name: string, run: () => Promise<R> | R): Promise<R> {
    const at = this.now + 1;
    this.calls.push(`${name}@${at}`);
    this.inFlight += 1;
    this.startedSinceQuiet += 1;
    let outcome: { value: R } | { error: unknown };
    try {
      outcome = { value: await run() };
    } catch (error) {
      outcome = { error };
    }
    this.inFlight -= 1;
    await new Promise<void>((release) => {
      this.waiting.push({ at, release });
      this.tick();
    });
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }

  /** Moves the clock to the next answer once every started call waits and nothing new starts. */
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      while (this.waiting.length > 0) {
        this.startedSinceQuiet = 0;
        for (let i = 0; i < QUIET_TURNS; i++) await turn();
        if (this.inFlight > 0 || this.startedSinceQuiet > 0) continue;
        this.now = Math.min(...this.waiting.map((call) => call.at));
        const due = this.waiting.filter((call) => call.at === this.now);
        for (const call of due) this.waiting.splice(this.waiting.indexOf(call), 1);
        for (const call of due) call.release();
      }
    } finally {
      this.ticking = false;
    }
  }
}
