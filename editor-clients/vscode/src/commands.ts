// The extension's commands and the status bar menu.
import * as vscode from 'vscode';
import { SparkClient, STATS_REQUEST, currentServerCommand } from './client';
import { editArguments, editRange, parseSelectionArgument, Range } from './edit';
import { doctorCommand } from './serverCommand';
import { toggleActiveLanguage } from './languageToggle';
import { PARTIAL_ACCEPT_COMMANDS, PARTIAL_ACCEPTS } from './partialAccept';
import { StatusBar } from './statusBar';

export const COMMANDS = {
  toggleCompletions: 'sparkLsp.toggleCompletions',
  toggleLanguage: 'sparkLsp.toggleLanguage',
  editSelection: 'sparkLsp.editSelection',
  restartServer: 'sparkLsp.restartServer',
  showLog: 'sparkLsp.showLog',
  runDoctor: 'sparkLsp.runDoctor',
  showStats: 'sparkLsp.showStats',
  showMenu: 'sparkLsp.showMenu',
  ...PARTIAL_ACCEPT_COMMANDS,
  /** Run by the server's "Spark: Edit selection…" code action: ask, then edit. */
  promptEdit: 'spark.promptEdit',
} as const;

/** Commands implemented by the server (`workspace/executeCommand`). */
export const SERVER_COMMANDS = {
  toggleCompletions: 'spark.toggleCompletions',
  editSelection: 'spark.editSelection',
} as const;

export function registerCommands(client: SparkClient, statusBar: StatusBar, log: vscode.LogOutputChannel): vscode.Disposable[] {
  const guarded = (name: string, run: (...args: unknown[]) => Promise<unknown>) =>
    vscode.commands.registerCommand(name, async (...args: unknown[]) => {
      try {
        return await run(...args);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log.error(`${name}: ${message}`);
        void vscode.window.showErrorMessage(`Spark: ${message}`);
        return undefined;
      }
    });
  return [
    guarded(COMMANDS.toggleCompletions, () => toggleCompletions(client, statusBar)),
    guarded(COMMANDS.toggleLanguage, () => toggleActiveLanguage()),
    guarded(COMMANDS.editSelection, () => editSelection(client)),
    guarded(COMMANDS.promptEdit, (arg) => promptEdit(client, arg)),
    guarded(COMMANDS.restartServer, () => client.restart()),
    guarded(COMMANDS.showLog, async () => log.show()),
    guarded(COMMANDS.runDoctor, async () => runDoctor()),
    guarded(COMMANDS.showStats, () => showStats(client)),
    guarded(COMMANDS.showMenu, () => showMenu(statusBar)),
    ...PARTIAL_ACCEPTS.map(({ command, builtin }) =>
      guarded(command, async () => {
        void client.notePartialAccept().catch((error) => log.warn(`counting a partial accept: ${String(error)}`));
        return vscode.commands.executeCommand(builtin);
      }),
    ),
  ];
}

async function toggleCompletions(client: SparkClient, statusBar: StatusBar): Promise<void> {
  const result = (await client.executeServerCommand(SERVER_COMMANDS.toggleCompletions, [])) as { enabled?: unknown } | null;
  const enabled = typeof result?.enabled === 'boolean' ? result.enabled : undefined;
  statusBar.setCompletionsEnabled(enabled);
  if (enabled !== undefined) {
    vscode.window.setStatusBarMessage(`Spark: completions ${enabled ? 'on' : 'off'}`, 3000);
  }
}

async function editSelection(client: SparkClient): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    throw new Error('open a file and select the code to edit');
  }
  const lsp = client.runningClient().code2ProtocolConverter;
  const selected = lsp.asRange(editor.selection);
  const range = editRange(selected, (line) => editor.document.lineAt(line).text.length);
  await askAndEdit(client, lsp.asUri(editor.document.uri), range);
}

async function promptEdit(client: SparkClient, arg: unknown): Promise<void> {
  const target = parseSelectionArgument(arg);
  if (!target) {
    throw new Error(`${COMMANDS.promptEdit} needs {uri, range}`);
  }
  await askAndEdit(client, target.uri, target.range);
}

async function askAndEdit(client: SparkClient, uri: string, range: Range): Promise<void> {
  const instruction = await vscode.window.showInputBox({
    title: 'Spark: Edit Selection',
    prompt: 'Describe the change to make to the selected code',
    placeHolder: 'e.g. handle an empty list',
    ignoreFocusOut: true,
  });
  const args = editArguments(uri, range, instruction);
  if (args) {
    await client.executeServerCommand(SERVER_COMMANDS.editSelection, [args]);
  }
}

function runDoctor(): void {
  const doctor = doctorCommand(currentServerCommand());
  const terminal = vscode.window.createTerminal({
    name: 'Spark doctor',
    shellPath: doctor.command,
    shellArgs: doctor.args,
    cwd: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  terminal.show();
}

async function showStats(client: SparkClient): Promise<void> {
  const stats = await client.request(STATS_REQUEST, {});
  const document = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify(stats, null, 2) });
  await vscode.window.showTextDocument(document, { preview: true });
}

async function showMenu(statusBar: StatusBar): Promise<void> {
  const off = statusBar.completionsEnabled === false;
  const language = statusBar.language;
  const items: (vscode.QuickPickItem & { command: string })[] = [];
  if (language.id) {
    const on = language.enabled !== false;
    items.push({
      label: on ? `$(circle-slash) Turn completions off for ${language.id}` : `$(play) Turn completions on for ${language.id}`,
      description: 'spark.completion.languages',
      command: COMMANDS.toggleLanguage,
    });
  }
  items.push(
    { label: off ? '$(play) Turn completions on' : '$(circle-slash) Turn completions off', command: COMMANDS.toggleCompletions },
    { label: '$(output) Show log', command: COMMANDS.showLog },
    { label: '$(pulse) Run doctor', description: 'spark-lsp doctor in a terminal', command: COMMANDS.runDoctor },
    { label: '$(graph) Show statistics', command: COMMANDS.showStats },
    { label: '$(debug-restart) Restart server', command: COMMANDS.restartServer },
  );
  const picked = await vscode.window.showQuickPick(items, { title: 'Spark', placeHolder: 'Spark language server' });
  if (picked) {
    await vscode.commands.executeCommand(picked.command);
  }
}
