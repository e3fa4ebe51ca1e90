import { randomBytes, randomInt } from 'node:crypto';

/** 12 random bytes in hex, the shape of Auth0's database user ids; never reused, never changed. */
export const newUserId = () => randomBytes(12).toString('hex');
/** Where a new user's session epoch starts (see NewUser): one of 2^47, far from any bumped count. */
export const firstSessionEpoch = () => randomInt(2 ** 47);
