import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACCEPT_COMMAND, formatAcceptance, parseAcceptance, suggestionId } from '../src/acceptance';
import { formatStatus } from '../src/status';

const STATS = {
  acceptance: {
    total: { shown: 5, accepted: 3, partiallyAccepted: 1, acceptanceRate: 0.6, latencyMs: { p50: 140.4, p90: 300, p99: 310 } },
    languages: {},
  },
};

describe('parseAcceptance', () => {
  it('reads the totals of spark/stats', () => {
    assert.deepEqual(parseAcceptance(STATS), { shown: 5, accepted: 3, partiallyAccepted: 1, rate: 0.6, p50Ms: 140.4 });
  });

  it('is undefined for a server without acceptance figures, and tolerates junk', () => {
    assert.equal(parseAcceptance({ pipeline: {} }), undefined);
    assert.equal(parseAcceptance(null), undefined);
    assert.deepEqual(parseAcceptance({ acceptance: { total: { shown: 'x', acceptanceRate: null } } }), {
      shown: 0,
      accepted: 0,
      partiallyAccepted: 0,
      rate: null,
      p50Ms: 0,
    });
  });
});

describe('formatAcceptance', () => {
  it('gives the rate, the partial accepts and the median latency', () => {
    const summary = parseAcceptance(STATS);
    assert.ok(summary);
    assert.equal(formatAcceptance(summary), 'Accepted 3 of 5 suggestions (60%), 1 in part; p50 latency 140 ms');
  });

  it('says so before anything was shown', () => {
    assert.equal(formatAcceptance({ shown: 0, accepted: 0, partiallyAccepted: 0, rate: null, p50Ms: 0 }), 'No suggestion shown yet');
  });

  it('goes into the status bar tooltip', () => {
    const view = formatStatus({ state: 'ready' }, { acceptance: 'Accepted 1 of 1 suggestion (100%); p50 latency 9 ms' });
    assert.match(view.tooltip, /^Spark: ready\nAccepted 1 of 1 suggestion/);
  });
});

describe('suggestionId', () => {
  const item = (id: unknown, command = ACCEPT_COMMAND) => ({ insertText: 'x', command: { title: 'Accepted', command, arguments: [id] } });

  it('takes the id of the first item, from a list or {items}', () => {
    assert.equal(suggestionId([item(7), item(7)]), 7);
    assert.equal(suggestionId({ items: [item(3)] }), 3);
  });

  it('ignores items that are not Spark suggestions', () => {
    assert.equal(suggestionId([item(7, 'other.command')]), undefined);
    assert.equal(suggestionId([item('7')]), undefined);
    assert.equal(suggestionId(undefined), undefined);
    assert.equal(suggestionId([{ insertText: 'x' }]), undefined);
  });
});

describe('the thinking state', () => {
  it('spins, names the reason and keeps the latency', () => {
    const view = formatStatus({ state: 'thinking', latencyMs: 41 });
    assert.equal(view.text, '$(sync~spin) Spark 41 ms');
    assert.match(view.tooltip, /^Spark: thinking/);
    assert.equal(view.severity, 'normal');
  });
});
