import type { ImportProgress } from '../../functions/admin/user-import.ts';

export interface ProgressDisplay {
  update(progress: ImportProgress): void;
  /** Draws the last state and ends the line. */
  finish(progress: ImportProgress): void;
}

const number = (n: number) => n.toLocaleString('en-US');

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

const tally = (p: ImportProgress) =>
  `${number(p.imported)} imported, ${number(p.updated)} updated, ${number(p.skipped)} skipped, ` +
  `${number(p.rejected)} rejected, ${number(p.failed)} failed`;

/**
 * On a terminal, a bar redrawn in place (at most ten times a second); otherwise (a pipe, a log
 * file, or --json) a plain count line at every tenth of the way, so logs stay readable.
 */
export function progressDisplay(
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  options: { plain: boolean; now?: () => number },
): ProgressDisplay {
  const now = options.now ?? (() => performance.now());
  // From the first update, not from start-up: opening the store is not importing.
  let started: number | undefined;
  const tty = stream.isTTY === true && !options.plain;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let lastTenth = -1;

  const rate = (p: ImportProgress) => p.done / Math.max((now() - (started ?? now())) / 1000, 0.001);

  function bar(p: ImportProgress): string {
    const fraction = p.total === 0 ? 1 : p.done / p.total;
    const perSecond = rate(p);
    const stats =
      ` ${number(p.done)}/${number(p.total)} ${String(Math.floor(fraction * 100)).padStart(3)}%` +
      ` ${number(Math.round(perSecond))}/s ETA ${duration((p.total - p.done) / perSecond)}` +
      (p.rejected + p.failed > 0 ? ` (${number(p.rejected)} rejected, ${number(p.failed)} failed)` : '');
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - stats.length - 3));
    const filled = Math.round(fraction * width);
    return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]${stats}`;
  }

  return {
    update(p) {
      started ??= now();
      if (tty) {
        if (now() - lastDraw < 100) return;
        lastDraw = now();
        stream.write(`\r\x1b[2K${bar(p)}`);
        return;
      }
      const tenth = p.total === 0 ? 10 : Math.floor((p.done / p.total) * 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      stream.write(`${number(p.done)}/${number(p.total)} rows: ${tally(p)}\n`);
    },
    finish(p) {
      if (tty) stream.write(`\r\x1b[2K${bar(p)}\n`);
      else if (lastTenth !== 10) stream.write(`${number(p.done)}/${number(p.total)} rows: ${tally(p)}\n`);
    },
  };
}
