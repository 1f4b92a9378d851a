// The language client's lifecycle: resolve the server command, start, stop, restart on
// `spark.server.*` changes, and forward `spark/status` to the status bar.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import { ServerCommand, resolveServerCommand } from './serverCommand';
import { isSparkSection, serverSection } from './settings';
import { parseStatus } from './status';
import { StatusBar } from './statusBar';

export const CLIENT_ID = 'spark';
export const STATUS_NOTIFICATION = 'spark/status';
export const STATS_REQUEST = 'spark/stats';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The server command for the current settings and workspace. */
export function currentServerCommand(): ServerCommand {
  const config = vscode.workspace.getConfiguration('spark.server');
  return resolveServerCommand({
    command: config.get<string[]>('command'),
    path: config.get<string>('path'),
    workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath),
    platform: process.platform,
    envPath: process.env.PATH,
    home: os.homedir(),
    isExecutable,
  });
}

export class SparkClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private stopping = false;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly startListeners: ((client: LanguageClient) => void)[] = [];

  constructor(
    private readonly log: vscode.LogOutputChannel,
    private readonly statusBar: StatusBar,
  ) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('spark.server')) {
          this.log.info('spark.server settings changed: restarting the server');
          void this.restart();
        }
      }),
    );
  }

  /** Call `listener` with every language client this object starts (before it starts). */
  onStart(listener: (client: LanguageClient) => void): void {
    this.startListeners.push(listener);
  }

  get languageClient(): LanguageClient | undefined {
    return this.client;
  }

  async start(): Promise<void> {
    const server = currentServerCommand();
    this.log.info(`starting ${[server.command, ...server.args].join(' ')} (from ${server.source})`);
    const client = new LanguageClient(CLIENT_ID, 'Spark', serverOptions(server), this.clientOptions());
    this.client = client;
    this.stopping = false;
    this.statusBar.reset();
    client.onNotification(STATUS_NOTIFICATION, (params: unknown) => {
      const status = parseStatus(params);
      if (status) {
        this.statusBar.setStatus(status);
      } else {
        this.log.warn(`ignored a malformed ${STATUS_NOTIFICATION}: ${JSON.stringify(params)}`);
      }
    });
    this.startListeners.forEach((listener) => listener(client));
    client.onDidChangeState((event) => {
      if (event.newState === State.Stopped && !this.stopping && this.client === client) {
        this.statusBar.setClientError('the server stopped (see Spark: Show Log)');
      }
    });
    try {
      await client.start();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const message = `could not start ${server.command} (${server.source}): ${reason}`;
      this.log.error(message);
      this.statusBar.setClientError(message);
      void this.explainStartFailure(server);
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.stopping = true;
    if (client && client.needsStop()) {
      try {
        await client.stop(5000);
      } catch (error) {
        this.log.warn(`stopping the server: ${String(error)}`);
      }
    }
    await client?.dispose();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** `workspace/executeCommand` on the running server. */
  async executeServerCommand(command: string, args: unknown[]): Promise<unknown> {
    return this.runningClient().sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  }

  /** A custom request (such as `spark/stats`) to the running server. */
  async request(method: string, params?: unknown): Promise<unknown> {
    return this.runningClient().sendRequest(method, params);
  }

  runningClient(): LanguageClient {
    if (!this.client || !this.client.isRunning()) {
      throw new Error('the Spark language server is not running (Spark: Restart Server)');
    }
    return this.client;
  }

  private clientOptions(): LanguageClientOptions {
    return {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      synchronize: { configurationSection: 'spark' },
      outputChannel: this.log,
      revealOutputChannelOn: RevealOutputChannelOn.Never, // errors reach the status bar instead
      // This client shows next-edit proposals (spark.nextEdit.enabled turns them off) and
      // implements spark.promptEdit ("Edit selection…" is offered only to clients that do).
      initializationOptions: { experimental: { nextEdit: true, clientCommands: ['spark.promptEdit'] } },
      middleware: {
        workspace: {
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (!Array.isArray(result)) {
              return result;
            }
            return result.map((value, i) => (isSparkSection(params.items[i]?.section) ? serverSection(value) : value));
          },
        },
      },
    };
  }

  private async explainStartFailure(server: ServerCommand): Promise<void> {
    const choice = await vscode.window.showErrorMessage(
      `Spark could not start its language server (${server.command}, from ${server.source}). ` +
        'Install it with `pip install spark-lsp` or set spark.server.path.',
      'Open Settings',
      'Show Log',
    );
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'spark.server');
    } else if (choice === 'Show Log') {
      this.log.show();
    }
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
    void this.stop();
  }
}

function serverOptions(server: ServerCommand): ServerOptions {
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  // TransportKind.stdio appends --stdio to the arguments; spark-lsp accepts it.
  return { command: server.command, args: server.args, transport: TransportKind.stdio, options: { cwd } };
}
