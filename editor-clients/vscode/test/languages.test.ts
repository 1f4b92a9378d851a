import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { languageEnabled, withLanguage } from '../src/languages';

describe('languageEnabled', () => {
  it('follows the server: the language entry, else "*", else on', () => {
    const map = { '*': true, plaintext: false, markdown: false };
    assert.equal(languageEnabled(map, 'python'), true);
    assert.equal(languageEnabled(map, 'markdown'), false);
    assert.equal(languageEnabled({ '*': false, python: true }, 'go'), false);
    assert.equal(languageEnabled({ '*': false, python: true }, 'python'), true);
    assert.equal(languageEnabled(undefined, 'go'), true);
  });
});

describe('withLanguage', () => {
  it('switches one language and keeps the others', () => {
    const map = { '*': true, markdown: false };
    assert.deepEqual(withLanguage(map, 'python', false), { '*': true, markdown: false, python: false });
    assert.deepEqual(map, { '*': true, markdown: false }); // not mutated
    assert.deepEqual(withLanguage(undefined, 'go', true), { go: true });
  });
});
