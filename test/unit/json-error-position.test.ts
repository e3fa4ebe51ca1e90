import { describe, expect, it } from 'vitest';
import { jsonErrorPosition } from '../../functions/config/json-error-position.ts';

describe('where a config file stops being JSON', () => {
  it('names the line and column of the first mistake', () => {
    const cases: [string, number, number][] = [
      ['{\n  "a": }', 2, 8],
      ['{"a": 1,\n}', 2, 1], // a trailing comma
      ['{"a" 1}', 1, 6],
      ['{"a": [1, 2,]}', 1, 13],
      ['{"a": "x\\q"}', 1, 10],
      ['{"a": tru}', 1, 10],
      ['[1] x', 1, 5],
      ['{\n "realms": [\n  {"name": "c"}\n  {"name": "d"}\n ]\n}', 4, 3], // a missing comma
      ['{"a": "ok"', 1, 11], // the end of the file
      ['', 1, 1],
    ];
    for (const [text, line, column] of cases) {
      expect(() => JSON.parse(text), text).toThrow();
      expect(jsonErrorPosition(text), text).toEqual({ line, column });
    }
  });
});
