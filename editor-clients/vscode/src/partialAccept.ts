// Partial accept of ghost text (the next word, the next line) as Spark commands with their keys.
//
// VS Code does the accepting: its built-in commands insert the chosen part and keep the rest on
// screen, and the request that follows at the new cursor is served by the server's typing-through
// cache (then prefetched further). The server only hears that a part was taken, for its acceptance
// figures (VS Code tells language clients of whole accepts only; see acceptance.ts). Our commands exist so the
// keys are part of the extension (and documented with it) instead of a setting users must find:
// "next line" has no default key in VS Code at all. Kept free of the `vscode` module so the
// manifest test can check package.json against this table.

/** The command ids, merged into the extension's COMMANDS table. */
export const PARTIAL_ACCEPT_COMMANDS = {
  acceptNextWord: 'sparkLsp.acceptNextWord',
  acceptNextLine: 'sparkLsp.acceptNextLine',
} as const;

/** Only while ghost text is shown in an editor that has focus and can be written. */
export const PARTIAL_ACCEPT_KEY_WHEN = 'inlineSuggestionVisible && editorTextFocus && !editorReadonly';

/** Enablement and command-palette visibility: only while ghost text is shown. */
export const PARTIAL_ACCEPT_ENABLEMENT = 'inlineSuggestionVisible';

export interface PartialAccept {
  /** Our command id. */
  readonly command: string;
  /** The VS Code command that accepts the part. */
  readonly builtin: string;
  /** Command palette title (category "Spark"). */
  readonly title: string;
  /** Key on Windows and Linux, and on macOS. */
  readonly key: string;
  readonly mac: string;
}

export const PARTIAL_ACCEPTS: readonly PartialAccept[] = [
  {
    command: PARTIAL_ACCEPT_COMMANDS.acceptNextWord,
    builtin: 'editor.action.inlineSuggest.acceptNextWord',
    title: 'Accept Next Word of Suggestion',
    // VS Code's own key for it: muscle memory holds.
    key: 'ctrl+right',
    mac: 'cmd+right',
  },
  {
    command: PARTIAL_ACCEPT_COMMANDS.acceptNextLine,
    builtin: 'editor.action.inlineSuggest.acceptNextLine',
    title: 'Accept Next Line of Suggestion',
    // Scrolls (cursorBottom on macOS) otherwise; taken only while ghost text is shown.
    key: 'ctrl+down',
    mac: 'cmd+down',
  },
];
