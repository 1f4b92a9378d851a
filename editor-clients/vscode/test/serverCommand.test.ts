import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { doctorCommand, expandPath, findOnPath, resolveServerCommand, ServerCommandInputs } from '../src/serverCommand';

function inputs(executables: string[], overrides: Partial<ServerCommandInputs> = {}): ServerCommandInputs {
  const present = new Set(executables);
  return {
    workspaceFolders: ['/ws/a', '/ws/b'],
    platform: 'linux',
    envPath: '/usr/local/bin:/usr/bin',
    home: '/home/me',
    isExecutable: (file) => present.has(file),
    ...overrides,
  };
}

describe('resolveServerCommand', () => {
  it('prefers spark.server.command over everything', () => {
    const got = resolveServerCommand(
      inputs(['/ws/a/.venv/bin/spark-lsp', '/usr/bin/spark-lsp'], { command: ['python3', '-m', 'spark_lsp'], path: '/x/spark-lsp' }),
    );
    assert.deepEqual(got, { command: 'python3', args: ['-m', 'spark_lsp'], source: 'setting spark.server.command' });
  });

  it('ignores an empty command and blank parts', () => {
    const got = resolveServerCommand(inputs([], { command: ['', '  '], path: '~/bin/spark-lsp' }));
    assert.equal(got.command, '/home/me/bin/spark-lsp');
    assert.equal(got.source, 'setting spark.server.path');
  });

  it('expands ${workspaceFolder} in the path setting', () => {
    const got = resolveServerCommand(inputs([], { path: '${workspaceFolder}/env/bin/spark-lsp' }));
    assert.equal(got.command, '/ws/a/env/bin/spark-lsp');
  });

  it('finds the workspace virtual environment before PATH, in folder order', () => {
    const got = resolveServerCommand(inputs(['/ws/b/.venv/bin/spark-lsp', '/ws/b/venv/bin/spark-lsp', '/usr/bin/spark-lsp']));
    assert.deepEqual(got, { command: '/ws/b/.venv/bin/spark-lsp', args: [], source: 'virtual environment of /ws/b' });
  });

  it('falls back to PATH, then to python3 -m spark_lsp', () => {
    assert.equal(resolveServerCommand(inputs(['/usr/bin/spark-lsp'])).command, '/usr/bin/spark-lsp');
    assert.deepEqual(resolveServerCommand(inputs([])), {
      command: 'python3',
      args: ['-m', 'spark_lsp'],
      source: 'fallback (spark-lsp not found)',
    });
  });

  it('uses Scripts\\spark-lsp.exe and python on Windows', () => {
    const win = { platform: 'win32' as const, workspaceFolders: ['C:\\ws'], envPath: 'C:\\bin' };
    assert.equal(resolveServerCommand(inputs(['C:\\ws\\.venv\\Scripts\\spark-lsp.exe'], win)).command, 'C:\\ws\\.venv\\Scripts\\spark-lsp.exe');
    assert.equal(resolveServerCommand(inputs(['C:\\bin\\spark-lsp.exe'], win)).command, 'C:\\bin\\spark-lsp.exe');
    assert.equal(resolveServerCommand(inputs([], win)).command, 'python');
  });
});

describe('findOnPath / expandPath', () => {
  it('skips empty PATH entries and returns the first hit', () => {
    const found = findOnPath('spark-lsp', '::/a:/b', 'linux', (f) => f === '/b/spark-lsp' || f === '/a/spark-lsp');
    assert.equal(found, '/a/spark-lsp');
    assert.equal(findOnPath('spark-lsp', undefined, 'linux', () => true), undefined);
  });

  it('leaves ~user and unrelated text alone', () => {
    assert.equal(expandPath('~other/x', [], '/home/me'), '~other/x');
    assert.equal(expandPath(' /abs ', [], '/home/me'), '/abs');
  });
});

describe('doctorCommand', () => {
  it('keeps the program and -m module, drops serving options', () => {
    const got = doctorCommand({ command: 'python3', args: ['-m', 'spark_lsp', 'serve', '--log-file', '/tmp/x', '--stdio'], source: 's' });
    assert.deepEqual(got.args, ['-m', 'spark_lsp', 'doctor']);
    assert.deepEqual(doctorCommand({ command: '/v/spark-lsp', args: ['--log-level=DEBUG'], source: 's' }).args, ['doctor']);
  });
});
