// Which command starts the language server. Pure: the file system and PATH come in as arguments,
// so the order of preference is unit-tested without VS Code.
import * as path from 'node:path';

export interface ServerCommand {
  command: string;
  args: string[];
  /** Where the command came from, for the log and error messages. */
  source: string;
}

export interface ServerCommandInputs {
  /** `spark.server.command`: the whole command line, e.g. ["python3", "-m", "spark_lsp"]. */
  command?: readonly string[] | null;
  /** `spark.server.path`: the `spark-lsp` executable. */
  path?: string | null;
  workspaceFolders: readonly string[];
  platform: NodeJS.Platform;
  /** The PATH environment variable. */
  envPath: string | undefined;
  home: string | undefined;
  isExecutable: (file: string) => boolean;
}

const VENV_DIRS = ['.venv', 'venv'];

/** `${workspaceFolder}` and a leading `~` in a configured path. */
export function expandPath(value: string, workspaceFolders: readonly string[], home?: string): string {
  let out = value.trim();
  if (workspaceFolders.length > 0) {
    out = out.split('${workspaceFolder}').join(workspaceFolders[0]);
  }
  if (home && (out === '~' || out.startsWith('~/'))) {
    out = home + out.slice(1);
  }
  return out;
}

function executableNames(base: string, platform: NodeJS.Platform): string[] {
  return platform === 'win32' ? [`${base}.exe`, `${base}.cmd`, base] : [base];
}

function venvCandidates(folder: string, platform: NodeJS.Platform): string[] {
  const bin = platform === 'win32' ? 'Scripts' : 'bin';
  const p = platform === 'win32' ? path.win32 : path.posix;
  return VENV_DIRS.flatMap((venv) =>
    executableNames('spark-lsp', platform).map((name) => p.join(folder, venv, bin, name)),
  );
}

/** The first `name` on PATH that is executable, or undefined. */
export function findOnPath(
  name: string,
  envPath: string | undefined,
  platform: NodeJS.Platform,
  isExecutable: (file: string) => boolean,
): string | undefined {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const separator = platform === 'win32' ? ';' : ':';
  for (const dir of (envPath ?? '').split(separator)) {
    if (!dir) {
      continue;
    }
    for (const candidate of executableNames(name, platform)) {
      const file = p.join(dir, candidate);
      if (isExecutable(file)) {
        return file;
      }
    }
  }
  return undefined;
}

/**
 * The server command, in order of preference: the `spark.server.command` setting, the
 * `spark.server.path` setting, `.venv/bin/spark-lsp` (or `venv/`) in a workspace folder,
 * `spark-lsp` on PATH, and finally `python3 -m spark_lsp`.
 */
export function resolveServerCommand(inputs: ServerCommandInputs): ServerCommand {
  const { workspaceFolders, platform, home } = inputs;
  const configured = (inputs.command ?? []).filter((part) => part.trim() !== '');
  if (configured.length > 0) {
    const [command, ...args] = configured.map((part) => expandPath(part, workspaceFolders, home));
    return { command, args, source: 'setting spark.server.command' };
  }
  if (inputs.path && inputs.path.trim() !== '') {
    const command = expandPath(inputs.path, workspaceFolders, home);
    return { command, args: [], source: 'setting spark.server.path' };
  }
  for (const folder of workspaceFolders) {
    const found = venvCandidates(folder, platform).find((file) => inputs.isExecutable(file));
    if (found) {
      return { command: found, args: [], source: `virtual environment of ${folder}` };
    }
  }
  const onPath = findOnPath('spark-lsp', inputs.envPath, platform, inputs.isExecutable);
  if (onPath) {
    return { command: onPath, args: [], source: 'PATH' };
  }
  const python = platform === 'win32' ? 'python' : 'python3';
  return { command: python, args: ['-m', 'spark_lsp'], source: 'fallback (spark-lsp not found)' };
}

/**
 * The `doctor` command line for a server command: the same program (and `-m module` for the
 * interpreter form) with its serving options dropped, then `doctor`.
 */
export function doctorCommand(server: ServerCommand): ServerCommand {
  const args: string[] = [];
  for (let i = 0; i < server.args.length; i++) {
    const arg = server.args[i];
    if (arg === '-m' && i + 1 < server.args.length) {
      args.push(arg, server.args[++i]);
    } else if (!arg.startsWith('-') && arg !== 'serve') {
      args.push(arg);
    } else if (arg.startsWith('--') && !arg.includes('=') && OPTIONS_WITH_VALUE.has(arg)) {
      i++; // skip the option's value too
    }
  }
  return { command: server.command, args: [...args, 'doctor'], source: server.source };
}

const OPTIONS_WITH_VALUE = new Set(['--log-file', '--log-level', '--tcp', '--ws']);
