import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { affectsMachineSettings, machineOptions, serverSection } from '../src/settings';
import { MACHINE_SETTINGS } from '../src/machineSettings';

// out/test/*.js → the extension folder is two levels up.
const EXTENSION = path.resolve(__dirname, '..', '..');
const read = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

describe('serverSection', () => {
  it('removes the client-only groups and keeps the rest', () => {
    const section = { model: { name: 'm' }, server: { path: '/x' }, trace: { server: 'off' }, 'server.command': [] };
    assert.deepEqual(serverSection(section), { model: { name: 'm' } });
  });

  it('removes the machine-scoped settings, nested or dotted', () => {
    const section = {
      model: { name: 'm', endpoint: 'http://evil', apiKeyCommand: 'touch x' },
      'model.proxy': 'http://p:1',
      completion: { enabled: true },
    };
    assert.deepEqual(serverSection(section), { model: { name: 'm' }, completion: { enabled: true } });
  });

  it('passes through what is not an object', () => {
    assert.equal(serverSection(null), null);
    assert.deepEqual(serverSection([1]), [1]);
  });
});

describe('machine-scoped settings', () => {
  it('are sent as initializationOptions from the user settings only', () => {
    const user: Record<string, unknown> = { 'model.endpoint': 'wss://h/v1', 'model.apiKeyEnv': 'K' };
    assert.deepEqual(machineOptions((key) => user[key]), {
      spark: { model: { endpoint: 'wss://h/v1', apiKeyEnv: 'K' } },
    });
    assert.deepEqual(machineOptions(() => undefined), {});
  });

  it("carry the user's exclusions, which a workspace may add to but not replace", () => {
    const user: Record<string, unknown> = { 'context.exclude': ['notes/**'], 'context.crossFile': false };
    assert.deepEqual(machineOptions((key) => user[key]), { spark: { context: { exclude: ['notes/**'] } } });
  });

  it('restart the server when one changes', () => {
    assert.equal(affectsMachineSettings((s) => s === 'spark.model.apiKeyCommand'), true);
    assert.equal(affectsMachineSettings((s) => s === 'spark.model.name'), false);
  });

  it('are exactly the schema entries with scope machine', () => {
    const schema = read(path.join(EXTENSION, '..', '..', 'spark_lsp', 'settings_schema.json')).properties;
    const machine = Object.entries(schema)
      .filter(([, spec]) => (spec as { scope?: string }).scope === 'machine')
      .map(([key]) => key.replace(/^spark\./, ''));
    assert.deepEqual([...MACHINE_SETTINGS], machine);
  });
});

describe('contributed configuration', () => {
  const contributed = read(path.join(EXTENSION, 'package.json')).contributes.configuration.properties;
  const schema = read(path.join(EXTENSION, '..', '..', 'spark_lsp', 'settings_schema.json')).properties;
  const client = read(path.join(EXTENSION, 'client-settings.json'));

  it('holds every server setting exactly as the schema defines it', () => {
    for (const [key, spec] of Object.entries(schema)) {
      const { order: _order, ...rest } = contributed[key] ?? {};
      assert.deepEqual(rest, spec, `${key} differs from settings_schema.json: run scripts/gen_vscode_settings.py`);
    }
  });

  it('adds only the client settings, which the server never receives', () => {
    const extra = Object.keys(contributed).filter((key) => !(key in schema));
    assert.deepEqual(extra.sort(), Object.keys(client).sort());
    const nested: Record<string, unknown> = {};
    for (const key of extra) {
      nested[key.split('.')[1]] = {};
    }
    assert.deepEqual(serverSection(nested), {});
  });
});
