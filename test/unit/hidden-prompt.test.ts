import { describe, expect, it } from 'vitest';
import { typeKeys } from '../../bin/cli/read-password.ts';

describe('the hidden password prompt', () => {
  it('ends at Enter or Ctrl-D, and cancels at Ctrl-C', () => {
    expect(typeKeys('', 'secret words\r')).toEqual({ answer: 'secret words', end: 'enter', rest: '' });
    expect(typeKeys('secret', ' words\u0004')).toEqual({ answer: 'secret words', end: 'enter', rest: '' });
    expect(typeKeys('secret', '\u0003')).toEqual({ answer: 'secret', end: 'cancel' });
  });

  it('keeps typing across reads, deletes with Backspace, and keeps control keys out of the password', () => {
    let state = typeKeys('', 'pässw');
    state = typeKeys(state.answer, 'x\u007f\u007fw');
    state = typeKeys(state.answer, '\u001b[A\u001b[Dord\u0001');
    expect(state).toEqual({ answer: 'pässword' });
  });

  it('keeps what was pasted past Enter for the repeat prompt', () => {
    for (const paste of ['pässword\rpässword\r', 'pässword\r\npässword\r\n', 'pässword\npässword\n']) {
      const first = typeKeys('', paste);
      expect(first, JSON.stringify(paste)).toMatchObject({ answer: 'pässword', end: 'enter' });
      expect(typeKeys('', first.rest ?? ''), JSON.stringify(paste)).toMatchObject({
        answer: 'pässword',
        end: 'enter',
        rest: '',
      });
    }
  });
});
