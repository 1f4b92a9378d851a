// The arguments of the server's `spark.editSelection` command. Pure (LSP-shaped positions).

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface EditArguments {
  uri: string;
  range: Range;
  instruction: string;
}

/** The range to edit: the selection, or the whole cursor line when nothing is selected. */
export function editRange(selection: Range, lineLength: (line: number) => number): Range {
  const { start, end } = selection;
  if (start.line !== end.line || start.character !== end.character) {
    return selection;
  }
  return { start: { line: start.line, character: 0 }, end: { line: start.line, character: lineLength(start.line) } };
}

/** The single argument of `spark.editSelection`, or undefined when there is nothing to do. */
export function editArguments(uri: string, range: Range, instruction: string | undefined): EditArguments | undefined {
  const text = instruction?.trim();
  return text ? { uri, range, instruction: text } : undefined;
}

/** The `{uri, range}` a server code action passes to `spark.promptEdit`, checked. */
export function parseSelectionArgument(arg: unknown): { uri: string; range: Range } | undefined {
  const value = Array.isArray(arg) && arg.length === 1 ? arg[0] : arg;
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const { uri, range } = value as { uri?: unknown; range?: unknown };
  if (typeof uri !== 'string' || !isRange(range)) {
    return undefined;
  }
  return { uri, range };
}

function isPosition(value: unknown): value is Position {
  const p = value as Position | null;
  return typeof p === 'object' && p !== null && Number.isInteger(p.line) && Number.isInteger(p.character) && p.line >= 0 && p.character >= 0;
}

function isRange(value: unknown): value is Range {
  const r = value as Range | null;
  return typeof r === 'object' && r !== null && isPosition(r.start) && isPosition(r.end);
}
