// The quick per-language switch: the status bar shows whether the active editor's language is
// on, and one command (also the first entry of the status bar menu) flips it in the user's
// `spark.completion.languages`. The server reads the change like any settings change.
import * as vscode from 'vscode';
import { LanguageMap, languageEnabled, withLanguage } from './languages';
import { StatusBar } from './statusBar';

const SECTION = 'spark.completion';
const KEY = 'languages';

/** The language of the active editor, if any. */
export function activeLanguage(): string | undefined {
  return vscode.window.activeTextEditor?.document.languageId;
}

/** Whether completions run in `languageId` under the current settings. */
export function isLanguageEnabled(languageId: string): boolean {
  return languageEnabled(vscode.workspace.getConfiguration(SECTION).get<LanguageMap>(KEY), languageId);
}

/** Flip the active editor's language; returns its new state (undefined without an editor). */
export async function toggleActiveLanguage(): Promise<boolean | undefined> {
  const languageId = activeLanguage();
  if (!languageId) {
    throw new Error('open a file to switch completions for its language');
  }
  const config = vscode.workspace.getConfiguration(SECTION);
  const enabled = !languageEnabled(config.get<LanguageMap>(KEY), languageId);
  // Write where the user keeps the map: the workspace when it has one, else the user settings.
  const inspected = config.inspect<LanguageMap>(KEY);
  const target = inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  const current = target === vscode.ConfigurationTarget.Workspace ? inspected?.workspaceValue : inspected?.globalValue;
  await config.update(KEY, withLanguage(current, languageId, enabled), target);
  vscode.window.setStatusBarMessage(`Spark: completions ${enabled ? 'on' : 'off'} for ${languageId}`, 3000);
  return enabled;
}

/** Keep the status bar's language state in step with the active editor and the settings. */
export function watchLanguage(statusBar: StatusBar): vscode.Disposable {
  const update = () => {
    const languageId = activeLanguage();
    statusBar.setLanguage(languageId, languageId ? isLanguageEnabled(languageId) : undefined);
  };
  update();
  return vscode.Disposable.from(
    vscode.window.onDidChangeActiveTextEditor(update),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.${KEY}`) || event.affectsConfiguration(`${SECTION}.enabled`)) {
        update();
      }
    }),
  );
}
