// Entry point: wires the log, the status bar, the language client and the commands together.
// Behaviour lives in the modules; activate() only connects them.
import * as vscode from 'vscode';
import { SparkClient } from './client';
import { COMMANDS, registerCommands } from './commands';
import { watchLanguage } from './languageToggle';
import { NextEdits } from './nextEdit';
import { StatusBar } from './statusBar';

let client: SparkClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = vscode.window.createOutputChannel('Spark', { log: true });
  const statusBar = new StatusBar(COMMANDS.showMenu);
  client = new SparkClient(log, statusBar);
  const nextEdits = new NextEdits(() => client?.languageClient, log);
  client.onStart((languageClient) => nextEdits.attach(languageClient));
  context.subscriptions.push(log, statusBar, client, nextEdits, watchLanguage(statusBar), ...registerCommands(client, statusBar, log));
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
