import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLatency, formatStatus, parseStatus } from '../src/status';

describe('parseStatus', () => {
  it('accepts the server payload and normalises empty fields', () => {
    assert.deepEqual(parseStatus({ state: 'ready', model: 'm', endpoint: 'bundled', latencyMs: 12.5, detail: '' }), {
      state: 'ready',
      model: 'm',
      endpoint: 'bundled',
      endpointUrl: null,
      latencyMs: 12.5,
      detail: null,
    });
  });

  it('rejects what is not a status', () => {
    assert.equal(parseStatus(null), undefined);
    assert.equal(parseStatus({ state: 'sleeping' }), undefined);
    assert.equal(parseStatus('ready'), undefined);
    assert.equal(parseStatus({ state: 'ready', latencyMs: -1 })?.latencyMs, null);
    assert.equal(parseStatus({ state: 'ready', latencyMs: Number.NaN })?.latencyMs, null);
  });
});

describe('formatLatency', () => {
  it('rounds for people', () => {
    assert.equal(formatLatency(3.14), '3.1 ms');
    assert.equal(formatLatency(142.6), '143 ms');
    assert.equal(formatLatency(1234), '1.2 s');
  });
});

describe('formatStatus', () => {
  it('shows latency and model when ready', () => {
    const view = formatStatus({ state: 'ready', model: 'gpt-5.3-codex-spark', endpoint: 'remote', latencyMs: 41 });
    assert.equal(view.text, '$(sparkle) Spark 41 ms');
    assert.match(view.tooltip, /^Spark: ready\nModel: gpt-5.3-codex-spark \(remote\)\nLast model latency: 41 ms/);
    assert.equal(view.severity, 'normal');
  });

  it('names the bundled model', () => {
    assert.match(formatStatus({ state: 'ready', model: 'm', endpoint: 'bundled' }).tooltip, /m \(bundled local model\)/);
  });

  it('spins while starting or busy, and has no latency before the first request', () => {
    assert.equal(formatStatus(undefined).text, '$(loading~spin) Spark');
    assert.equal(formatStatus({ state: 'starting' }).text, '$(loading~spin) Spark');
    assert.equal(formatStatus({ state: 'busy', latencyMs: null }).text, '$(sync~spin) Spark');
  });

  it('colours offline as a warning and error as an error, with the detail', () => {
    const offline = formatStatus({ state: 'offline', latencyMs: 20, detail: 'connection refused' });
    assert.equal(offline.severity, 'warning');
    assert.equal(offline.text, '$(debug-disconnect) Spark');
    assert.match(offline.tooltip, /model unreachable[\s\S]*connection refused/);
    assert.equal(formatStatus({ state: 'error', detail: 'HTTP 401' }).severity, 'error');
  });

  it('shows completions switched off', () => {
    const view = formatStatus({ state: 'ready', latencyMs: 9 }, { completionsEnabled: false });
    assert.equal(view.text, '$(circle-slash) Spark');
    assert.match(view.tooltip, /completions off/);
  });

  it('shows the active language switched off, and the endpoint URL', () => {
    const status = { state: 'ready' as const, model: 'm', endpoint: 'remote', endpointUrl: 'wss://api.example/v1/responses', latencyMs: 9 };
    const off = formatStatus(status, { languageId: 'python', languageEnabled: false });
    assert.equal(off.text, '$(circle-slash) Spark');
    assert.match(off.tooltip, /^Spark: ready, completions off for python\nModel: m \(remote: wss:\/\/api\.example\/v1\/responses\)/);
    assert.equal(formatStatus(status, { languageId: 'python', languageEnabled: true }).text, '$(sparkle) Spark 9 ms');
    assert.equal(parseStatus({ state: 'ready', endpointUrl: 'ws://127.0.0.1:1/v1/responses' })?.endpointUrl, 'ws://127.0.0.1:1/v1/responses');
  });

  it('a client error wins over the last server status', () => {
    const view = formatStatus({ state: 'ready' }, { clientError: 'spawn spark-lsp ENOENT' });
    assert.equal(view.severity, 'error');
    assert.match(view.tooltip, /not running: spawn spark-lsp ENOENT/);
  });
});
