import { AdminError } from '../../functions/admin/user-admin.ts';

/**
 * Passwords never come from arguments (they would land in shell history and `ps`): either all of
 * stdin with one trailing newline removed, or a prompt on the terminal that does not echo.
 */
export async function readPasswordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return utf8Text(Buffer.concat(chunks), 'the password on stdin').replace(/\r?\n$/, '');
}

/**
 * Bytes that are not UTF-8 would be turned into U+FFFD silently: a password nobody could type
 * again, or several different ones stored as the same. They are refused instead.
 */
export function utf8Text(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AdminError(`${what} is not UTF-8 text; convert it to UTF-8 first`);
  }
}

/**
 * What keys typed at the hidden prompt do to the answer: Enter (or Ctrl-D) ends it, Ctrl-C
 * cancels, Backspace deletes one character, and other control characters (from arrow keys, say)
 * are not part of any password. What follows Enter in the same read (a password pasted twice,
 * `pw⏎pw⏎`) is `rest`: typed ahead for the next prompt.
 */
export function typeKeys(
  answer: string,
  keys: string,
): { answer: string; end?: 'enter' | 'cancel'; rest?: string } {
  // An escape sequence (ESC [ … final byte) arrives whole in one read: the arrow keys, Home, F1.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the terminal's ESC is the point
  const text = [...keys.replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b./g, '')];
  let typed = answer;
  for (const [i, key] of text.entries()) {
    if (key === '\r' || key === '\n' || key === '\u0004') {
      const next = key === '\r' && text[i + 1] === '\n' ? i + 2 : i + 1; // a pasted CRLF is one Enter
      return { answer: typed, end: 'enter', rest: text.slice(next).join('') };
    }
    if (key === '\u0003') return { answer: typed, end: 'cancel' };
    if (key === '\u007f' || key === '\b') typed = [...typed].slice(0, -1).join('');
    else if (key >= ' ') typed += key;
  }
  return { answer: typed };
}

/** Prompts without echo; `typedAhead` is what an earlier prompt's read held past its Enter. */
export function promptHidden(
  question: string,
  typedAhead = '',
): Promise<{ answer: string; typedAhead: string }> {
  const input = process.stdin;
  if (!input.isTTY) {
    return Promise.reject(new Error('no terminal to prompt on: pass the password with --password-stdin'));
  }
  process.stderr.write(question);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  let answer = '';
  return new Promise((resolve, reject) => {
    const finish = (error?: Error, rest = '') => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      error ? reject(error) : resolve({ answer, typedAhead: rest });
    };
    const onData = (data: string) => {
      const typed = typeKeys(answer, data);
      answer = typed.answer;
      if (typed.end === 'enter') finish(undefined, typed.rest);
      else if (typed.end === 'cancel') finish(new Error('cancelled'));
    };
    input.on('data', onData);
    if (typedAhead !== '') onData(typedAhead);
  });
}

/** A new password: from stdin, or typed twice at a hidden prompt. */
export async function readNewPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) return readPasswordFromStdin();
  const first = await promptHidden('Password: ');
  const second = await promptHidden('Repeat password: ', first.typedAhead);
  if (first.answer !== second.answer) throw new Error('the passwords do not match');
  return first.answer;
}
