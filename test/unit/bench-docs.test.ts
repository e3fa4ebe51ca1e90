import { describe, expect, it } from 'vitest';
import { costPerMillion, PRICES } from '../../bench/cost.ts';
import { longestChain } from '../../bench/critical-path.ts';
import { markers, withBenchBlock } from '../../bench/write-docs.ts';

const { begin: BEGIN, end: END } = markers('bench');

describe('the bench writes its figures into the performance page', () => {
  it('replaces only what lies between the markers', () => {
    const page = `# Performance\n\nProse.\n\n${BEGIN}\nold figures\n${END}\n\nMore prose.\n`;
    const written = withBenchBlock(page, '| new | figures |');
    expect(written).toContain('# Performance\n\nProse.\n\n<!-- bench:begin -->');
    expect(written).toContain('| new | figures |\n\n<!-- bench:end -->\n\nMore prose.\n');
    expect(written).not.toContain('old figures');
    expect(withBenchBlock(written, '| new | figures |')).toBe(written);
  });

  it('keeps the blocks apart: the critical path alone leaves the full run block as it is', () => {
    const page = withBenchBlock(
      withBenchBlock('# Performance\n', 'all figures'),
      'rounds',
      'bench:critical-path',
    );
    const rewritten = withBenchBlock(page, 'new rounds', 'bench:critical-path');
    expect(rewritten).toContain('all figures');
    expect(rewritten).toContain('new rounds');
    expect(rewritten).not.toContain('\nrounds');
  });

  it('adds the markers at the end of a page that has none', () => {
    expect(withBenchBlock('# Performance\n', 'figures')).toMatch(
      /^# Performance\n\n<!-- bench:begin -->\n.*\n\nfigures\n\n<!-- bench:end -->\n$/,
    );
  });
});

describe('sequential rounds from a log of calls', () => {
  const call = (startMs: number, endMs: number) => ({ operation: 'x', startMs, endMs, items: 1 });

  it('counts calls side by side once and calls that waited for an answer each', () => {
    // Two reads side by side, a write after both, then two more side by side.
    expect(longestChain([call(0, 10), call(1, 11), call(12, 22), call(23, 33), call(23, 34)])).toBe(3);
    expect(longestChain([])).toBe(0);
  });
});

describe('cost per million grants from the calls counted', () => {
  it("bills a batch read by its keys and a transaction's writes at two write units each", () => {
    const path = {
      grant: 'login',
      signing: 'kms-wrapped',
      p50Ms: 0,
      p50DelayedMs: 0,
      delayMs: 10,
      timedRounds: 2,
      rounds: 2,
      operations: { UpdateItem: 3, BatchGetItem: 1, TransactWriteItems: 1 },
      items: { UpdateItem: 3, BatchGetItem: 2, TransactWriteItems: 4 },
      dynamodbCalls: 5,
      kmsCalls: 0,
      secretsManagerCalls: 0,
    } as const;
    // 2 read units and 3 + 4 × 2 = 11 write units per grant.
    expect(costPerMillion(path).dynamodb).toBeCloseTo(
      2 * PRICES.dynamodbPerMillionReadUnits + 11 * PRICES.dynamodbPerMillionWriteUnits,
    );
  });
});
