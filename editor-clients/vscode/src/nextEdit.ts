// Next-edit proposals in the editor: when the server announces one (spark/nextEditAvailable)
// for the text on screen, fetch it (spark/nextEdit) and show it at its place: the text it
// replaces struck through, the new text after it. Tab jumps to it when the cursor is elsewhere
// and accepts it when the cursor is on it; Esc dismisses it; any change to the document drops
// it. `spark.nextEdit.enabled` turns it off (the server stops predicting, too).
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import {
  NEXT_EDIT_AVAILABLE,
  NEXT_EDIT_REQUEST,
  Proposal,
  announcedDocument,
  inlineLabel,
  parseProposal,
  tabAction,
} from './nextEditModel';

export const NEXT_EDIT_COMMANDS = {
  tab: 'sparkLsp.nextEdit.tab',
  accept: 'sparkLsp.nextEdit.accept',
  dismiss: 'sparkLsp.nextEdit.dismiss',
  request: 'sparkLsp.nextEdit.request',
} as const;
/** Context key the Tab and Esc keybindings depend on. */
export const VISIBLE_CONTEXT = 'sparkLsp.nextEditVisible';

/** Whether the user wants next-edit proposals (the schema's `spark.nextEdit.enabled`). */
export function nextEditEnabled(): boolean {
  return vscode.workspace.getConfiguration('spark.nextEdit').get<boolean>('enabled', true);
}

interface Shown {
  uri: string;
  proposal: Proposal;
  ranges: vscode.Range[];
}

export class NextEdits implements vscode.Disposable {
  private shown: Shown | undefined;
  private readonly replaced = vscode.window.createTextEditorDecorationType({
    textDecoration: 'line-through',
    backgroundColor: new vscode.ThemeColor('diffEditor.removedTextBackground'),
  });
  private readonly inserted = vscode.window.createTextEditorDecorationType({});
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly client: () => LanguageClient | undefined,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      this.replaced,
      this.inserted,
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (this.shown && event.document.uri.toString() === this.shown.uri && event.contentChanges.length > 0) {
          this.dismiss();
        }
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.dismiss()),
      vscode.commands.registerCommand(NEXT_EDIT_COMMANDS.tab, () => this.tab()),
      vscode.commands.registerCommand(NEXT_EDIT_COMMANDS.accept, () => this.accept()),
      vscode.commands.registerCommand(NEXT_EDIT_COMMANDS.dismiss, () => this.dismiss()),
      vscode.commands.registerCommand(NEXT_EDIT_COMMANDS.request, () => this.request(true)),
    );
  }

  /** Listen to the announcements of a (re)started language client. */
  attach(client: LanguageClient): void {
    client.onNotification(NEXT_EDIT_AVAILABLE, (params: unknown) => {
      const announced = announcedDocument(params);
      const editor = vscode.window.activeTextEditor;
      if (!announced || !editor || !nextEditEnabled()) {
        return;
      }
      const document = editor.document;
      if (client.code2ProtocolConverter.asUri(document.uri) === announced.uri && document.version === announced.version) {
        void this.request(false);
      }
    });
  }

  /** Ask for the proposal at the cursor of the active editor and show it. */
  async request(explicit: boolean): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const client = this.client();
    if (!editor || !client || !client.isRunning()) {
      return;
    }
    const document = editor.document;
    const version = document.version;
    const c2p = client.code2ProtocolConverter;
    let result: unknown;
    try {
      result = await client.sendRequest(NEXT_EDIT_REQUEST, {
        textDocument: { uri: c2p.asUri(document.uri), version },
        position: c2p.asPosition(editor.selection.active),
      });
    } catch (error) {
      this.log.info(`${NEXT_EDIT_REQUEST}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    const proposal = parseProposal(result);
    if (!proposal || proposal.version !== document.version || vscode.window.activeTextEditor !== editor) {
      if (explicit) {
        vscode.window.setStatusBarMessage('Spark: no next edit to propose here', 3000);
      }
      return; // nothing, or computed for text that has changed since: never shown
    }
    this.show(editor, proposal, client);
  }

  private show(editor: vscode.TextEditor, proposal: Proposal, client: LanguageClient): void {
    const p2c = client.protocol2CodeConverter;
    const ranges = proposal.edits.map((edit) => p2c.asRange(edit.range));
    const insertions = proposal.edits.map((edit, i) => ({
      range: new vscode.Range(ranges[i].end, ranges[i].end),
      hoverMessage: new vscode.MarkdownString('Spark: proposed next edit — **Tab** to jump / accept, **Esc** to dismiss'),
      renderOptions: {
        after: {
          contentText: inlineLabel(edit.newText),
          color: new vscode.ThemeColor('editorGhostText.foreground'),
          backgroundColor: new vscode.ThemeColor('diffEditor.insertedTextBackground'),
        },
      },
    }));
    editor.setDecorations(this.replaced, ranges.filter((range) => !range.isEmpty));
    editor.setDecorations(this.inserted, insertions);
    this.shown = { uri: editor.document.uri.toString(), proposal, ranges };
    void vscode.commands.executeCommand('setContext', VISIBLE_CONTEXT, true);
  }

  private async tab(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const shown = this.shown;
    if (!editor || !shown || editor.document.uri.toString() !== shown.uri) {
      return;
    }
    if (tabAction(editor.selection.active.line, shown.proposal) === 'accept') {
      await this.accept();
      return;
    }
    const target = shown.ranges[0].start;
    editor.selection = new vscode.Selection(target, target);
    editor.revealRange(shown.ranges[0], vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  /** Apply the shown proposal, only to the document version it was computed for. */
  async accept(): Promise<boolean> {
    const editor = vscode.window.activeTextEditor;
    const shown = this.shown;
    this.dismiss();
    if (!editor || !shown || editor.document.uri.toString() !== shown.uri) {
      return false;
    }
    if (editor.document.version !== shown.proposal.version) {
      vscode.window.setStatusBarMessage('Spark: the proposed edit is for older text; not applied', 3000);
      return false;
    }
    return editor.edit((builder) => {
      shown.proposal.edits.forEach((edit, i) => builder.replace(shown.ranges[i], edit.newText));
    });
  }

  dismiss(): void {
    if (!this.shown) {
      return;
    }
    this.shown = undefined;
    for (const editor of vscode.window.visibleTextEditors) {
      editor.setDecorations(this.replaced, []);
      editor.setDecorations(this.inserted, []);
    }
    void vscode.commands.executeCommand('setContext', VISIBLE_CONTEXT, false);
  }

  dispose(): void {
    this.dismiss();
    this.disposables.forEach((d) => d.dispose());
  }
}
