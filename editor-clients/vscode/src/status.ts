// What the status bar shows for a `spark/status` notification. Pure: no VS Code API, so the
// formatting is unit-tested; statusBar.ts applies the result to the real item.

// 'thinking': a request has waited on the model longer than spark.completion.thinkingAfterMs.
// 'busy' is what servers before it sent for every request.
export type ServerState = 'starting' | 'ready' | 'thinking' | 'busy' | 'offline' | 'error';

/** The params of the server's `spark/status` notification. */
export interface SparkStatus {
  state: ServerState;
  model?: string | null;
  endpoint?: 'bundled' | 'remote' | string | null;
  /** Where the model is (scheme, host and path; never a key or query string). */
  endpointUrl?: string | null;
  latencyMs?: number | null;
  detail?: string | null;
}

/** What the client knows beyond the server's notification. */
export interface ClientView {
  /** The client could not start the server, or the server exited; shown as an error. */
  clientError?: string;
  /** Completions switched off with Toggle Completions (undefined: not known). */
  completionsEnabled?: boolean;
  /** The active editor's language and whether completions run in it (spark.completion.languages). */
  languageId?: string;
  languageEnabled?: boolean;
  /** The acceptance line from `spark/stats` (see acceptance.ts), once known. */
  acceptance?: string;
}

export interface StatusView {
  text: string;
  tooltip: string;
  severity: 'normal' | 'warning' | 'error';
}

const STATES: readonly ServerState[] = ['starting', 'ready', 'thinking', 'busy', 'offline', 'error'];

const ICONS: Record<ServerState, string> = {
  starting: '$(loading~spin)',
  ready: '$(sparkle)',
  thinking: '$(sync~spin)',
  busy: '$(sync~spin)',
  offline: '$(debug-disconnect)',
  error: '$(error)',
};

const DESCRIPTIONS: Record<ServerState, string> = {
  starting: 'starting',
  ready: 'ready',
  thinking: 'thinking (the model is taking longer than usual)',
  busy: 'working',
  offline: 'model unreachable',
  error: 'error',
};

/** A `spark/status` payload checked field by field; undefined when it is not one. */
export function parseStatus(params: unknown): SparkStatus | undefined {
  if (typeof params !== 'object' || params === null) {
    return undefined;
  }
  const raw = params as Record<string, unknown>;
  if (!STATES.includes(raw.state as ServerState)) {
    return undefined;
  }
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
  const latency = raw.latencyMs;
  return {
    state: raw.state as ServerState,
    model: text(raw.model),
    endpoint: text(raw.endpoint),
    endpointUrl: text(raw.endpointUrl),
    latencyMs: typeof latency === 'number' && Number.isFinite(latency) && latency >= 0 ? latency : null,
    detail: text(raw.detail),
  };
}

/** Milliseconds for people: "8 ms", "140 ms", "1.2 s". */
export function formatLatency(ms: number): string {
  if (ms < 10) {
    return `${Math.round(ms * 10) / 10} ms`;
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The status bar text, tooltip and colour for the server's status and the client's view. */
export function formatStatus(status: SparkStatus | undefined, client: ClientView = {}): StatusView {
  if (client.clientError) {
    return {
      text: '$(error) Spark',
      tooltip: `Spark: the language server is not running: ${client.clientError}\nClick for options.`,
      severity: 'error',
    };
  }
  if (!status) {
    return { text: `${ICONS.starting} Spark`, tooltip: 'Spark: starting the language server', severity: 'normal' };
  }
  const languageOff = client.languageEnabled === false && client.languageId !== undefined;
  const off = client.completionsEnabled === false || languageOff;
  const live = status.state === 'ready' || status.state === 'thinking' || status.state === 'busy';
  const icon = off && live ? '$(circle-slash)' : ICONS[status.state];
  const latency = live && !off && status.latencyMs != null ? ` ${formatLatency(status.latencyMs)}` : '';
  const why = client.completionsEnabled === false ? ', completions off' : languageOff ? `, completions off for ${client.languageId}` : '';
  const lines = [`Spark: ${DESCRIPTIONS[status.state]}${why}`];
  if (status.model) {
    lines.push(`Model: ${status.model}${describeEndpoint(status)}`);
  }
  if (status.latencyMs != null) {
    lines.push(`Last model latency: ${formatLatency(status.latencyMs)}`);
  }
  if (client.acceptance) {
    lines.push(client.acceptance);
  }
  if (status.detail) {
    lines.push(status.detail);
  }
  lines.push('Click for options.');
  const severity = status.state === 'error' ? 'error' : status.state === 'offline' ? 'warning' : 'normal';
  return { text: `${icon} Spark${latency}`, tooltip: lines.join('\n'), severity };
}

/** " (bundled local model)" or " (remote: wss://host/path)" for the tooltip's model line. */
function describeEndpoint(status: SparkStatus): string {
  if (status.endpoint === 'bundled') {
    return ' (bundled local model)';
  }
  if (status.endpoint && status.endpointUrl) {
    return ` (${status.endpoint}: ${status.endpointUrl})`;
  }
  return status.endpoint ? ` (${status.endpoint})` : '';
}
