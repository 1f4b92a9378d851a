// Acceptance figures: which suggestion is on screen (its id, from the item's accept command) and
// what `spark/stats` says about how many were accepted. Pure: no VS Code API, so it is unit-tested.
//
// VS Code runs an inline item's command when the whole item is accepted; the language client
// forwards it to the server (`spark.didAccept <id>`). Accepting a word or a line is not reported
// by VS Code to the language client, so Spark's own partial-accept commands tell the server,
// with the id of the suggestion last shown.

export const ACCEPT_COMMAND = 'spark.didAccept';

/** The totals of `spark/stats`' `acceptance` section that the status bar shows. */
export interface AcceptanceSummary {
  shown: number;
  accepted: number;
  partiallyAccepted: number;
  rate: number | null;
  p50Ms: number;
}

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0);

/** The totals from a `spark/stats` answer; undefined when it has none (an older server). */
export function parseAcceptance(stats: unknown): AcceptanceSummary | undefined {
  const total = (stats as { acceptance?: { total?: Record<string, unknown> } } | null)?.acceptance?.total;
  if (typeof total !== 'object' || total === null) {
    return undefined;
  }
  const rate = total.acceptanceRate;
  const latency = total.latencyMs as Record<string, unknown> | undefined;
  return {
    shown: count(total.shown),
    accepted: count(total.accepted),
    partiallyAccepted: count(total.partiallyAccepted),
    rate: typeof rate === 'number' && Number.isFinite(rate) ? rate : null,
    p50Ms: count(latency?.p50),
  };
}

/** The tooltip line: "Accepted 3 of 5 suggestions (60%), 1 in part; p50 latency 140 ms". */
export function formatAcceptance(summary: AcceptanceSummary): string {
  if (summary.shown === 0) {
    return 'No suggestion shown yet';
  }
  const rate = summary.rate === null ? '' : ` (${Math.round(summary.rate * 100)}%)`;
  const part = summary.partiallyAccepted > 0 ? `, ${summary.partiallyAccepted} in part` : '';
  const noun = summary.shown === 1 ? 'suggestion' : 'suggestions';
  return `Accepted ${summary.accepted} of ${summary.shown} ${noun}${rate}${part}; p50 latency ${Math.round(summary.p50Ms)} ms`;
}

interface CommandLike {
  command?: unknown;
  arguments?: unknown;
}

/** The suggestion id of an inline completion result (a list or `{items}`), if Spark's. */
export function suggestionId(result: unknown): number | undefined {
  const items = Array.isArray(result) ? result : (result as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) {
    return undefined;
  }
  for (const item of items) {
    const command = (item as { command?: CommandLike } | null)?.command;
    const id = Array.isArray(command?.arguments) ? command.arguments[0] : undefined;
    if (command?.command === ACCEPT_COMMAND && typeof id === 'number') {
      return id;
    }
  }
  return undefined;
}
