// Next-edit proposals without VS Code: parsing the server's answer and deciding what Tab does.
// The server (spark/nextEdit) answers {version, edits: [{range, newText}]}; a proposal is for
// exactly that document version and is never applied to other text.
import { Range } from './edit';

export const NEXT_EDIT_REQUEST = 'spark/nextEdit';
export const NEXT_EDIT_AVAILABLE = 'spark/nextEditAvailable';

export interface ProposedEdit {
  range: Range;
  newText: string;
}

export interface Proposal {
  version: number;
  edits: ProposedEdit[];
}

function isPosition(value: unknown): boolean {
  const p = value as { line?: unknown; character?: unknown } | null;
  return typeof p === 'object' && p !== null && Number.isInteger(p.line) && Number.isInteger(p.character);
}

function isEdit(value: unknown): value is ProposedEdit {
  const e = value as { range?: { start?: unknown; end?: unknown }; newText?: unknown } | null;
  return (
    typeof e === 'object' && e !== null && typeof e.newText === 'string' && typeof e.range === 'object' &&
    e.range !== null && isPosition(e.range.start) && isPosition(e.range.end)
  );
}

/** The server's answer as a proposal, or undefined when it proposes nothing (or is malformed). */
export function parseProposal(result: unknown): Proposal | undefined {
  const value = result as { version?: unknown; edits?: unknown } | null;
  if (typeof value !== 'object' || value === null || !Number.isInteger(value.version)) {
    return undefined;
  }
  if (!Array.isArray(value.edits) || value.edits.length === 0 || !value.edits.every(isEdit)) {
    return undefined;
  }
  return { version: value.version as number, edits: value.edits as ProposedEdit[] };
}

/** The document version a `spark/nextEditAvailable` notification is about, if well formed. */
export function announcedDocument(params: unknown): { uri: string; version: number } | undefined {
  const doc = (params as { textDocument?: { uri?: unknown; version?: unknown } } | null)?.textDocument;
  if (typeof doc?.uri !== 'string' || !Number.isInteger(doc.version)) {
    return undefined;
  }
  return { uri: doc.uri, version: doc.version as number };
}

/** Tab with a proposal shown: jump to it from elsewhere, accept it when the cursor is on it. */
export function tabAction(cursorLine: number, proposal: Proposal): 'jump' | 'accept' {
  const first = proposal.edits[0].range.start.line;
  const last = proposal.edits[proposal.edits.length - 1].range.end.line;
  return cursorLine >= first && cursorLine <= last ? 'accept' : 'jump';
}

/** How a proposed edit's new text is shown inline: one line, later lines marked with ⏎. */
export function inlineLabel(newText: string): string {
  return newText.replace(/\r?\n/g, ' ⏎ ').replace(/\t/g, '  ');
}
