import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { PARTIAL_ACCEPT_COMMANDS, PARTIAL_ACCEPT_ENABLEMENT, PARTIAL_ACCEPT_KEY_WHEN, PARTIAL_ACCEPTS } from '../src/partialAccept';

// out/test/*.js → the extension folder is two levels up.
const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8'));
const contributes = manifest.contributes;

interface Entry {
  command: string;
  [field: string]: unknown;
}

const entriesFor = (list: Entry[], command: string) => list.filter((entry) => entry.command === command);

describe('partial accept commands', () => {
  it('cover every partial-accept command id, each running its own built-in', () => {
    assert.deepEqual(PARTIAL_ACCEPTS.map((accept) => accept.command).sort(), Object.values(PARTIAL_ACCEPT_COMMANDS).sort());
    const builtins = PARTIAL_ACCEPTS.map((accept) => accept.builtin);
    assert.equal(new Set(builtins).size, builtins.length);
    for (const builtin of builtins) {
      assert.match(builtin, /^editor\.action\.inlineSuggest\.acceptNext(Word|Line)$/);
    }
  });

  for (const accept of PARTIAL_ACCEPTS) {
    describe(accept.command, () => {
      it('is declared in package.json, enabled only while a suggestion is visible', () => {
        assert.deepEqual(entriesFor(contributes.commands, accept.command), [
          { command: accept.command, title: accept.title, category: 'Spark', enablement: PARTIAL_ACCEPT_ENABLEMENT },
        ]);
      });

      it('is hidden from the command palette while no suggestion is visible', () => {
        assert.deepEqual(entriesFor(contributes.menus.commandPalette, accept.command), [
          { command: accept.command, when: PARTIAL_ACCEPT_ENABLEMENT },
        ]);
      });

      it('has its key, taken only while a suggestion is visible in a writable focused editor', () => {
        assert.deepEqual(entriesFor(contributes.keybindings, accept.command), [
          { command: accept.command, key: accept.key, mac: accept.mac, when: PARTIAL_ACCEPT_KEY_WHEN },
        ]);
      });

      it('shares its key with none of the extension’s other keybindings', () => {
        const others = (contributes.keybindings as Entry[]).filter((entry) => entry.command !== accept.command);
        assert.deepEqual(others.filter((entry) => entry.key === accept.key || entry.mac === accept.mac), []);
      });
    });
  }
});
