/**
 * Where a JSON text (RFC 8259) stops being valid, as a 1-based line and column: V8's JSON.parse
 * names a position for some mistakes and not for others ("Unexpected token '}', … is not valid
 * JSON"), and a person editing a config file needs the line. Called only after JSON.parse failed.
 */
export function jsonErrorPosition(text: string): { line: number; column: number } {
  const offset = firstInvalidOffset(text);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1) as string).length + 1 };
}

class Invalid extends Error {
  constructor(readonly offset: number) {
    super('invalid JSON');
  }
}

function firstInvalidOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw new Invalid(i);
  };
  const expect = (char: string) => {
    if (text[i] !== char) fail();
    i++;
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const literal = (word: string) => {
    for (const char of word) expect(char);
  };
  const string = () => {
    expect('"');
    while (text[i] !== '"') {
      if (i >= text.length || text.charCodeAt(i) < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u' && !/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
        if (text[i] === 'u') i += 4;
        else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    i++;
  };
  const number = () => {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match) fail();
    i += (match as RegExpExecArray)[0].length;
  };
  const member = () => {
    string();
    space();
    expect(':');
    value();
  };
  /** An object's or array's entries: `open entry (, entry)* close`, no trailing comma. */
  const entries = (close: string, entry: () => void) => {
    i++;
    space();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      space();
      entry();
      space();
      if (text[i] === close) break;
      expect(',');
    }
    i++;
  };
  function value() {
    space();
    const char = text[i];
    if (char === '{') entries('}', member);
    else if (char === '[') entries(']', value);
    else if (char === '"') string();
    else if (char === 't') literal('true');
    else if (char === 'f') literal('false');
    else if (char === 'n') literal('null');
    else number();
  }
  try {
    value();
    space();
    if (i < text.length) fail();
  } catch (error) {
    if (error instanceof Invalid) return error.offset;
    throw error;
  }
  return text.length;
}
