import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editArguments, editRange, parseSelectionArgument } from '../src/edit';

const at = (line: number, character: number) => ({ line, character });

describe('editRange', () => {
  it('keeps a selection', () => {
    const selection = { start: at(1, 2), end: at(3, 0) };
    assert.deepEqual(editRange(selection, () => 99), selection);
  });

  it('takes the whole cursor line when nothing is selected', () => {
    assert.deepEqual(editRange({ start: at(4, 7), end: at(4, 7) }, (line) => (line === 4 ? 20 : 0)), {
      start: at(4, 0),
      end: at(4, 20),
    });
  });
});

describe('editArguments', () => {
  it('trims the instruction and drops empty or cancelled ones', () => {
    const range = { start: at(0, 0), end: at(0, 1) };
    assert.deepEqual(editArguments('file:///a.py', range, '  add types \n'), { uri: 'file:///a.py', range, instruction: 'add types' });
    assert.equal(editArguments('file:///a.py', range, '   '), undefined);
    assert.equal(editArguments('file:///a.py', range, undefined), undefined);
  });
});

describe('parseSelectionArgument', () => {
  const arg = { uri: 'file:///a.py', range: { start: at(0, 0), end: at(1, 0) } };
  it('accepts {uri, range}, also wrapped once in a list', () => {
    assert.deepEqual(parseSelectionArgument(arg), arg);
    assert.deepEqual(parseSelectionArgument([arg]), arg);
  });

  it('rejects malformed arguments', () => {
    assert.equal(parseSelectionArgument(undefined), undefined);
    assert.equal(parseSelectionArgument({ uri: 1, range: arg.range }), undefined);
    assert.equal(parseSelectionArgument({ uri: 'x', range: { start: at(-1, 0), end: at(0, 0) } }), undefined);
    assert.equal(parseSelectionArgument({ uri: 'x', range: { start: at(0.5, 0), end: at(0, 0) } }), undefined);
  });
});
