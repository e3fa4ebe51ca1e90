import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import type { PasswordBlocklist } from '../../oauth/passwords/blocklist.ts';

/** Longest line read: a 40-digit SHA-1, `:`, a count, CRLF. */
const MAX_LINE = 128;

/**
 * A file of SHA-1 hashes of passwords, one per line and sorted, as Have I Been Pwned's Pwned
 * Passwords download ordered by hash writes it (`<40 hex digits>:<count>`; the count, and a bare
 * hash without one, both do). A lookup is a binary search over byte offsets: ~log2(lines) small
 * reads, so a file of a billion lines costs about thirty, and none of it is held in memory.
 */
export function sha1BlocklistFile(path: string): PasswordBlocklist {
  return {
    async has(password) {
      const target = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
      const file = await open(path, 'r');
      try {
        const { size } = await file.stat();
        let low = 0;
        let high = size;
        // Invariant: a line with `target` starts in [low, high) if it is anywhere.
        while (low < high) {
          const mid = Math.floor((low + high) / 2);
          const line = await lineFrom(file, mid, size);
          if (line === undefined) {
            high = mid;
            continue;
          }
          const hash = line.text.slice(0, 40).toUpperCase();
          if (hash === target) return true;
          if (hash < target) low = line.end;
          else high = mid;
        }
        return false;
      } finally {
        await file.close();
      }
    },
  };
}

/** The first line that starts at or after `position`, with the offset just past it. */
async function lineFrom(file: FileHandle, position: number, size: number) {
  let start = position;
  if (position > 0) {
    // The previous byte tells whether `position` is itself a line start.
    const buffer = Buffer.alloc(MAX_LINE + 1);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, position - 1);
    const newline = buffer.subarray(0, bytesRead).indexOf(10);
    if (newline === -1) return undefined;
    start = position - 1 + newline + 1;
  }
  if (start >= size) return undefined;
  const buffer = Buffer.alloc(MAX_LINE);
  const { bytesRead } = await file.read(buffer, 0, buffer.length, start);
  const chunk = buffer.subarray(0, bytesRead);
  const newline = chunk.indexOf(10);
  const text = chunk
    .subarray(0, newline === -1 ? bytesRead : newline)
    .toString('latin1')
    .replace(/\r$/, '');
  return { text, end: newline === -1 ? start + bytesRead : start + newline + 1 };
}
