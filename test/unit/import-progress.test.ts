import { describe, expect, it } from 'vitest';
import { progressDisplay } from '../../bin/cli/progress.ts';
import type { ImportProgress } from '../../functions/admin/user-import.ts';

const progress = (done: number, rejected = 0): ImportProgress => ({
  done,
  total: 1000,
  imported: done - rejected,
  updated: 0,
  skipped: 0,
  rejected,
  failed: 0,
});

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, columns: 100, write: (text: string) => writes.push(text) > 0 } };
}

describe('import progress', () => {
  it('draws a bar in place on a terminal, at most ten times a second', () => {
    let clock = -5000; // start-up time before the first row does not count
    const out = stream(true);
    const display = progressDisplay(out.stream as never, { plain: false, now: () => clock });
    clock = 0;
    display.update(progress(0));
    clock = 1000;
    display.update(progress(250));
    clock = 1050;
    display.update(progress(260)); // too soon: not drawn
    clock = 2000;
    display.update(progress(500, 3));
    display.finish(progress(1000, 3));
    expect(out.writes).toHaveLength(4);
    expect(out.writes.shift()).toBe(`\r\x1b[2K[${'░'.repeat(40)}] 0/1,000   0% 0/s ETA --:--`);
    expect(out.writes[0]).toBe(`\r\x1b[2K[${'█'.repeat(10)}${'░'.repeat(30)}] 250/1,000  25% 250/s ETA 0:03`);
    expect(out.writes[1]).toBe(
      `\r\x1b[2K[${'█'.repeat(20)}${'░'.repeat(20)}] 500/1,000  50% 250/s ETA 0:02 (3 rejected, 0 failed)`,
    );
    expect(out.writes[2]).toBe(
      `\r\x1b[2K[${'█'.repeat(40)}] 1,000/1,000 100% 500/s ETA 0:00 (3 rejected, 0 failed)\n`,
    );
  });

  it('prints a plain line per tenth when not on a terminal, or with --json', () => {
    for (const [isTTY, plain] of [
      [false, false],
      [true, true],
    ] as const) {
      const out = stream(isTTY);
      const display = progressDisplay(out.stream as never, { plain });
      for (let done = 0; done <= 1000; done += 50) display.update(progress(done));
      display.finish(progress(1000));
      expect(out.writes).toHaveLength(11);
      expect(out.writes[0]).toBe('0/1,000 rows: 0 imported, 0 updated, 0 skipped, 0 rejected, 0 failed\n');
      expect(out.writes[10]).toBe(
        '1,000/1,000 rows: 1,000 imported, 0 updated, 0 skipped, 0 rejected, 0 failed\n',
      );
    }
  });
});
