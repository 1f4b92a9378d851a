// The status bar item: state from `spark/status`, click opens the Spark menu.
import * as vscode from 'vscode';
import { ClientView, SparkStatus, formatStatus } from './status';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private status: SparkStatus | undefined;
  private view: ClientView = {};

  constructor(menuCommand: string) {
    this.item = vscode.window.createStatusBarItem('spark.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Spark';
    this.item.command = menuCommand;
    this.render();
    this.item.show();
  }

  /** A new `spark/status` from the server (clears a client-side error). */
  setStatus(status: SparkStatus): void {
    this.status = status;
    this.view = { ...this.view, clientError: undefined };
    this.render();
  }

  /** The server could not start or stopped for good; undefined clears it. */
  setClientError(message: string | undefined): void {
    this.view = { ...this.view, clientError: message };
    this.render();
  }

  setCompletionsEnabled(enabled: boolean | undefined): void {
    this.view = { ...this.view, completionsEnabled: enabled };
    this.render();
  }

  /** The acceptance line for the tooltip (see acceptance.ts). */
  setAcceptance(line: string | undefined): void {
    this.view = { ...this.view, acceptance: line };
    this.render();
  }

  /** The active editor's language and whether completions run in it. */
  setLanguage(languageId: string | undefined, enabled: boolean | undefined): void {
    this.view = { ...this.view, languageId, languageEnabled: enabled };
    this.render();
  }

  get language(): { id: string | undefined; enabled: boolean | undefined } {
    return { id: this.view.languageId, enabled: this.view.languageEnabled };
  }

  get completionsEnabled(): boolean | undefined {
    return this.view.completionsEnabled;
  }

  /** Back to "starting" for a fresh server process. */
  reset(): void {
    this.status = undefined;
    this.view = { languageId: this.view.languageId, languageEnabled: this.view.languageEnabled };
    // A new server counts from zero: the old figures would be wrong until the next accept.
    this.render();
  }

  private render(): void {
    const view = formatStatus(this.status, this.view);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.accessibilityInformation = { label: view.tooltip.split('\n')[0] };
    this.item.backgroundColor =
      view.severity === 'normal' ? undefined : new vscode.ThemeColor(`statusBarItem.${view.severity}Background`);
  }

  dispose(): void {
    this.item.dispose();
  }
}
