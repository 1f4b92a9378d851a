import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { announcedDocument, inlineLabel, parseProposal, tabAction } from '../src/nextEditModel';

const at = (line: number, character: number) => ({ line, character });
const edit = (line: number, newText: string) => ({ range: { start: at(line, 12), end: at(line, 12) }, newText });

describe('parseProposal', () => {
  it('reads the server answer', () => {
    assert.deepEqual(parseProposal({ version: 7, edits: [edit(1, 'idth')] }), { version: 7, edits: [edit(1, 'idth')] });
  });

  it('is undefined for nothing, no edits or a malformed answer', () => {
    assert.equal(parseProposal(null), undefined);
    assert.equal(parseProposal({ version: 7, edits: [] }), undefined);
    assert.equal(parseProposal({ version: '7', edits: [edit(1, 'x')] }), undefined);
    assert.equal(parseProposal({ version: 7, edits: [{ range: { start: at(1, 0) }, newText: 'x' }] }), undefined);
  });
});

describe('announcedDocument', () => {
  it('reads uri and version', () => {
    assert.deepEqual(announcedDocument({ textDocument: { uri: 'file:///a.py', version: 3 } }), { uri: 'file:///a.py', version: 3 });
    assert.equal(announcedDocument({ textDocument: { uri: 'file:///a.py' } }), undefined);
  });
});

describe('tabAction', () => {
  const proposal = { version: 1, edits: [edit(4, 'a'), edit(6, 'b')] };
  it('jumps from elsewhere and accepts on the proposal', () => {
    assert.equal(tabAction(0, proposal), 'jump');
    assert.equal(tabAction(9, proposal), 'jump');
    assert.equal(tabAction(4, proposal), 'accept');
    assert.equal(tabAction(5, proposal), 'accept');
  });
});

describe('inlineLabel', () => {
  it('shows new lines as a marker', () => {
    assert.equal(inlineLabel('a\nb\r\nc'), 'a ⏎ b ⏎ c');
  });
});
