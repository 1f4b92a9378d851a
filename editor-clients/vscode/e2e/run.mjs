// End-to-end test in a real VS Code: code-server with the packaged .vsix, driven by headless
// Chromium through playwright-core, against spark-lsp and a scripted model server.
//
// Run through scripts/vscode-e2e.sh, which installs everything and sets:
//   SPARK_E2E_CODE_SERVER  code-server executable      SPARK_E2E_CHROMIUM  chromium executable
//   SPARK_E2E_PYTHON       python with spark_lsp        SPARK_E2E_SERVER    spark-lsp executable
//   SPARK_E2E_VSIX         the packaged extension
// Optional: SPARK_E2E_TIMEOUT_S (default 300), SPARK_E2E_KEEP=1 (keep the temp dir on success).
//
// What it checks, in order: the extension installs; the server starts and its `spark/status`
// reaches the status bar ("Spark: ready"); typing shows the server's ghost text, Ctrl+Right
// (Spark: Accept Next Word of Suggestion) inserts its first word and keeps the rest shown, and Tab
// accepts the rest into the file; Ctrl+Down (Spark: Accept Next Line of Suggestion) takes a
// two-line suggestion line by line; if the server advertises codeActionProvider, Ctrl+. on a syntax error lists
// a "Spark: Fix…" quick-fix and applying it rewrites the file; Spark: Edit Selection (input box,
// then the server's spark.editSelection) rewrites the selected line; the language toggle switches
// python off (status bar, user settings, no suggestion) and on again; Spark: Toggle Completions
// reaches the server and the status bar says so; renaming a parameter shows the server's
// next-edit proposal (its use in the body renamed) at its place, Esc dismisses it, "Spark:
// Propose Next Edit" brings it back, Tab jumps to it and Tab again accepts it. Also: Alt+] and
// Alt+[ cycle through the alternatives an explicit request brings, Tab takes the one shown; the
// status bar tooltip counts accepted suggestions; a slow model turns the status to "thinking".
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { probeCapabilities } from './lsp-probe.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set (run scripts/vscode-e2e.sh)`);
  }
  return value;
};

const CODE_SERVER = env('SPARK_E2E_CODE_SERVER');
const CHROMIUM = env('SPARK_E2E_CHROMIUM');
const PYTHON = env('SPARK_E2E_PYTHON');
const SPARK_LSP = env('SPARK_E2E_SERVER');
const VSIX = env('SPARK_E2E_VSIX');
const TIMEOUT_S = Number(process.env.SPARK_E2E_TIMEOUT_S ?? 300);

const COMPLETION_TRIGGER = 'spark_e2e_total(values):';
const COMPLETION_REPLY = 'return sum(values)';
// Two lines, as a chat model writes them: the second indented as in the file.
const LINES_TRIGGER = 'spark_e2e_mean(values):';
const LINES_REPLY = 'total = sum(values)\n    return total / len(values)';
// Alternatives: typing shows the main suggestion; asking for the next one (Alt+]) makes VS Code
// ask explicitly, which the server answers with alternatives (each extra call is told which it is).
const PICK_TRIGGER = 'spark_e2e_pick(values):';
const PICK_REPLIES = ['return sorted(values)[0]', 'return max(values)', 'return min(values)'];
// A slow stand-in: the model waits 2.5 s before its first token, so the status says "thinking".
const SLOW_TRIGGER = 'spark_e2e_slow(values):';
const SLOW_REPLY = 'return list(values)';
const BROKEN = 'def broken(x)\n    return x + 1\n';
const FIXED = 'def broken(x):\n    return x + 1\n';
const MAIN = 'import math\n\n\n';
const EDIT_INSTRUCTION = 'e2e: double the result';
const EDITED = 'def broken(x):\n    return 2 * (x + 1)\n';
const AREA = 'def area(w, h):\n    return w * h\n\n\nprint(area(2, 3))\n';
const AREA_RENAMED = 'def area(width, h):\n    return width * h\n\n\nprint(area(2, 3))\n';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spark-vscode-e2e-'));
const dirs = {
  workspace: path.join(tmp, 'workspace'),
  userData: path.join(tmp, 'user-data'),
  extensions: path.join(tmp, 'extensions'),
  artifacts: path.join(tmp, 'artifacts'),
};
const children = [];
const started = Date.now();
let browser;
let page;

function step(message) {
  console.error(`[e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
}

function writeFiles() {
  Object.values(dirs).forEach((dir) => fs.mkdirSync(dir, { recursive: true }));
  fs.writeFileSync(path.join(dirs.workspace, 'main.py'), MAIN);
  fs.writeFileSync(path.join(dirs.workspace, 'broken.py'), BROKEN);
  fs.writeFileSync(path.join(dirs.workspace, 'area.py'), AREA);
  fs.writeFileSync(path.join(dirs.workspace, 'mean.py'), MAIN);
  fs.writeFileSync(path.join(dirs.workspace, 'pick.py'), MAIN);
  fs.writeFileSync(path.join(dirs.workspace, 'slow.py'), MAIN);
  // The extension must find the server by itself, as in a developer's checkout: the workspace's
  // .venv/bin/spark-lsp. (PATH cannot carry it: VS Code's server replaces PATH with the login
  // shell's.)
  fs.mkdirSync(path.join(dirs.workspace, '.venv', 'bin'), { recursive: true });
  fs.symlinkSync(SPARK_LSP, path.join(dirs.workspace, '.venv', 'bin', 'spark-lsp'));
  const script = {
    ttft_ms: 0,
    tokens_per_second: 1000,
    replies: [
      // Next-edit prompts show the recent edits as diff hunks: after the rename of w, the
      // model answers the window with the use renamed too (fenced, as chat models do); every
      // other next-edit prompt gets an explicit "no edit".
      { when: '+def area(width, h):', text: '```python\n' + AREA_RENAMED + '```' },
      { when: 'spark-task: next-edit', text: 'NO_EDIT' },
      // Edits carry the edit task in their instructions (completions do not); the edit
      // instruction typed by the test is in the request text. First match wins.
      { when: EDIT_INSTRUCTION, text: '    return 2 * (x + 1)\n' },
      { when: 'spark-task: edit', text: FIXED },
      { when: 'this is suggestion 2', text: PICK_REPLIES[1] },
      { when: 'this is suggestion 3', text: PICK_REPLIES[2] },
      { when: SLOW_TRIGGER, text: SLOW_REPLY, fault: { stall_after_deltas: 0, stall_s: 2.5 } },
      { when: PICK_TRIGGER, text: PICK_REPLIES[0] },
      { when: LINES_TRIGGER, text: LINES_REPLY },
      { when: COMPLETION_TRIGGER, text: COMPLETION_REPLY },
    ],
    default: { text: '' },
  };
  fs.writeFileSync(path.join(tmp, 'script.json'), JSON.stringify(script, null, 2));
  const settings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    // The suggest widget hides ghost text: keep it closed.
    'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' },
    'editor.suggestOnTriggerCharacters': false,
    'editor.wordBasedSuggestions': 'off',
    'editor.inlineSuggest.enabled': true,
    'editor.autoClosingBrackets': 'never',
    'editor.autoClosingQuotes': 'never',
    'editor.lightbulb.enabled': 'on',
    'files.autoSave': 'off',
    'spark.completion.debounceMs': 0,
    'spark.actions.syntaxDiagnostics': true,
    'spark.nextEdit.debounceMs': 100,
  };
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
}

/** Spawn a long-running child in its own process group, logging to artifacts/NAME.log. */
function startChild(name, command, args, options = {}) {
  const logFile = fs.openSync(path.join(dirs.artifacts, `${name}.log`), 'a');
  const child = spawn(command, args, { detached: true, stdio: ['pipe', 'pipe', logFile], ...options });
  children.push({ name, child });
  child.on('exit', (code, signal) => step(`${name} exited (${signal ?? code})`));
  return child;
}

/** Resolve with the first stdout line matching `pattern`, within `ms`. */
function firstLine(child, pattern, ms, what) {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`${what}: no output matching ${pattern} within ${ms} ms`)), ms);
    child.stdout.on('data', (chunk) => {
      buffer += chunk.toString();
      const match = buffer.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.on('exit', (code) => reject(new Error(`${what} exited (${code}) before printing ${pattern}; see ${dirs.artifacts}`)));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startModelServer() {
  const token = `e2e-${process.pid}-${Date.now()}`;
  const child = startChild(
    'model-server',
    PYTHON,
    ['-m', 'spark_lsp.modelserver', '--engine', 'scripted', '--script', path.join(tmp, 'script.json'), '--port', '0', '--exit-on-stdin-eof'],
    { env: { ...process.env, SPARK_MODEL_SERVER_TOKEN: token } },
  );
  const [, url] = await firstLine(child, /LISTENING (ws:\/\/\S+)/, 20_000, 'model server');
  return { url, token };
}

function installExtension() {
  const result = spawnSync(
    CODE_SERVER,
    ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, '--install-extension', VSIX],
    { encoding: 'utf8', timeout: 120_000 },
  );
  const output = `${result.stdout}${result.stderr}`;
  fs.writeFileSync(path.join(dirs.artifacts, 'install-extension.log'), output);
  if (result.status !== 0 || !/successfully installed/i.test(output)) {
    throw new Error(`code-server --install-extension failed (${result.status ?? result.signal}): ${output.trim()}`);
  }
  const installed = fs.readdirSync(dirs.extensions).filter((name) => name.startsWith('spark-lsp.spark-lsp-'));
  if (installed.length !== 1) {
    throw new Error(`expected the extension in ${dirs.extensions}, found: ${fs.readdirSync(dirs.extensions).join(', ')}`);
  }
}

async function startCodeServer(model) {
  const port = await freePort();
  const childEnv = { ...process.env, SPARK_LSP_ENDPOINT: model.url, OPENAI_API_KEY: model.token };
  delete childEnv.SPARK_MODEL_SERVER_TOKEN;
  delete childEnv.VSCODE_IPC_HOOK_CLI;
  const child = startChild(
    'code-server',
    CODE_SERVER,
    [
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-workspace-trust',
      '--disable-telemetry',
      '--disable-update-check',
      '--user-data-dir', dirs.userData,
      '--extensions-dir', dirs.extensions,
      dirs.workspace,
    ],
    { env: childEnv },
  );
  child.stdout.pipe(fs.createWriteStream(path.join(dirs.artifacts, 'code-server.stdout.log')));
  await firstLine(child, /HTTP server listening on/, 60_000, 'code-server');
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(dirs.workspace)}`;
}

async function openWorkbench(url) {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('console', (message) => {
    if (message.type() === 'error') {
      fs.appendFileSync(path.join(dirs.artifacts, 'browser-console.log'), `${message.text()}\n`);
    }
  });
  await page.goto(url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
}

/** The status bar item's label starts with "Spark: <state>" (accessibility label). */
async function waitForStatus(prefix, timeout = 60_000) {
  const item = page.locator(`[aria-label^="${prefix}"]`).first();
  await item.waitFor({ state: 'attached', timeout });
}

/** The extension's log (the Spark output channel, as VS Code writes it to disk). */
function serverLog() {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === 'Spark.log') found.push(full);
    }
  };
  walk(path.join(dirs.userData, 'logs'));
  return found.map((file) => fs.readFileSync(file, 'utf8')).join('\n');
}

async function expectServerLog(pattern) {
  if (!pattern.test(serverLog())) {
    throw new Error(`the Spark log does not match ${pattern}`);
  }
}

async function openFile(name, expectedText) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(name);
  await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: name }).first().waitFor();
  await page.keyboard.press('Enter');
  const editor = page.locator('.editor-instance .monaco-editor').first();
  await editor.locator('.view-lines').filter({ hasText: expectedText }).waitFor();
  await page.locator('.tab.active').filter({ hasText: name }).waitFor();
  return editor;
}

/** The ghost text on screen: VS Code renders it as spans (one per token) with &nbsp;. */
function readGhostText() {
  return Array.from(document.querySelectorAll('.monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text'))
    .map((node) => node.textContent ?? '')
    .join('')
    .replace(/\u00a0/g, ' ');
}

async function ghostText() {
  return page.evaluate(readGhostText);
}

/** The active editor's rendered lines without the ghost text in them: the document's text. */
function readEditorLines() {
  const lines = Array.from(document.querySelectorAll('.editor-instance .monaco-editor .view-lines .view-line'));
  lines.sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
  return lines.map((line) => {
    const copy = line.cloneNode(true);
    copy.querySelectorAll('[class*="ghost-text"]').forEach((node) => node.remove());
    return (copy.textContent ?? '').replace(/\u00a0/g, ' ');
  });
}

/** Poll the page until `check(lines, ghost)` holds; on timeout say what was on screen. */
async function waitForEditor(what, check, timeout = 10_000) {
  const until = Date.now() + timeout;
  for (;;) {
    const lines = await page.evaluate(readEditorLines);
    const ghost = await ghostText();
    if (check(lines, ghost)) {
      return { lines, ghost };
    }
    if (Date.now() > until) {
      throw new Error(`${what}: not within ${timeout} ms; lines ${JSON.stringify(lines)}, ghost text ${JSON.stringify(ghost)}`);
    }
    await page.waitForTimeout(100);
  }
}

async function saveAndRead(name) {
  await page.keyboard.press('Control+S');
  const file = path.join(dirs.workspace, name);
  await page.locator('.tab.active.dirty').waitFor({ state: 'detached', timeout: 10_000 });
  return fs.readFileSync(file, 'utf8');
}

function expectEqual(actual, expected, what) {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** At the end of `name` (which holds MAIN), type `def <header>` and Enter, as a person does. */
async function typeHeader(name, header) {
  const editor = await openFile(name, 'import math');
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(`def ${header}`, { delay: 15 });
  await page.keyboard.press('Enter');
}

async function testInlineCompletion() {
  await typeHeader('main.py', COMPLETION_TRIGGER);
  const shownAt = Date.now();
  await page.waitForFunction(
    ([read, reply]) => new Function(`return (${read})()`)().includes(reply),
    [readGhostText.toString(), COMPLETION_REPLY],
    { timeout: 20_000 },
  );
  step(`ghost text shown ${Date.now() - shownAt} ms after Enter: ${JSON.stringify(await ghostText())}`);
  // Spark: Accept Next Word of Suggestion (Ctrl+Right): VS Code takes the reply's first word and
  // keeps the rest on screen, now answered by the server from its typing-through cache.
  const word = COMPLETION_REPLY.match(/^\w+/)[0];
  const rest = COMPLETION_REPLY.slice(word.length);
  await page.keyboard.press('Control+ArrowRight');
  const afterWord = await waitForEditor(
    `Ctrl+Right should insert "${word}" and leave "${rest}" as ghost text`,
    (lines, ghost) => lines.includes(`    ${word}`) && ghost === rest,
  );
  step(`Ctrl+Right accepted the first word: line ${JSON.stringify(`    ${word}`)}, ghost text ${JSON.stringify(afterWord.ghost)}`);
  await page.keyboard.press('Tab');
  await page.waitForFunction(() => document.querySelectorAll('.monaco-editor .ghost-text-decoration').length === 0);
  const text = await saveAndRead('main.py');
  expectEqual(text, `${MAIN}def ${COMPLETION_TRIGGER}\n    ${COMPLETION_REPLY}`, 'main.py after Tab and save');
  step('Tab accepted the rest of the ghost text into main.py');
}

async function testLineAccept() {
  await typeHeader('mean.py', LINES_TRIGGER);
  const [first, second] = LINES_REPLY.split('\n');
  await waitForEditor('the two-line suggestion', (_lines, ghost) => ghost.includes(first) && ghost.includes(second.trim()), 20_000);
  // Spark: Accept Next Line of Suggestion (Ctrl+Down): the first line and its line break go in,
  // the second line stays as ghost text on the new line; Ctrl+Down again takes it too.
  await page.keyboard.press('Control+ArrowDown');
  const afterLine = await waitForEditor(
    `Ctrl+Down should insert "${first}" and leave "${second.trim()}" as ghost text`,
    (lines, ghost) => lines.includes(`    ${first}`) && ghost.trim() === second.trim() && !ghost.includes(first),
  );
  step(`Ctrl+Down accepted the first line; ghost text ${JSON.stringify(afterLine.ghost)}`);
  await page.keyboard.press('Control+ArrowDown');
  await waitForEditor(`Ctrl+Down should insert "${second}"`, (lines) => lines.includes(second));
  expectEqual(await saveAndRead('mean.py'), `${MAIN}def ${LINES_TRIGGER}\n    ${LINES_REPLY}`, 'mean.py after Ctrl+Down, Ctrl+Down and save');
  step('two Ctrl+Down accepted the suggestion line by line into mean.py');
}

async function testAlternatives() {
  const [first, second, third] = PICK_REPLIES;
  await typeHeader('pick.py', PICK_TRIGGER);
  await waitForEditor(`the suggestion ${JSON.stringify(first)}`, (_lines, ghost) => ghost === first, 20_000);
  step(`typing shows the main suggestion ${JSON.stringify(first)}`);
  // Alt+] (Show Next Inline Suggestion): VS Code asks again, explicitly, and cycles.
  await page.keyboard.press('Alt+BracketRight');
  await waitForEditor(`Alt+] should show the alternative ${JSON.stringify(second)}`, (_l, ghost) => ghost === second);
  await page.keyboard.press('Alt+BracketRight');
  await waitForEditor(`Alt+] again should show ${JSON.stringify(third)}`, (_l, ghost) => ghost === third);
  await page.keyboard.press('Alt+BracketLeft');
  await waitForEditor(`Alt+[ should go back to ${JSON.stringify(second)}`, (_l, ghost) => ghost === second);
  step(`Alt+] and Alt+[ cycled through ${JSON.stringify(PICK_REPLIES)}`);
  await page.keyboard.press('Tab');
  await page.waitForFunction(() => document.querySelectorAll('.monaco-editor .ghost-text-decoration').length === 0);
  expectEqual(await saveAndRead('pick.py'), `${MAIN}def ${PICK_TRIGGER}\n    ${second}`, 'pick.py after choosing the alternative');
  step('Tab accepted the alternative on screen');
}

/** The status bar item's tooltip, as a hover shows it. */
async function statusTooltip(pattern, timeout = 15_000) {
  const until = Date.now() + timeout;
  for (;;) {
    await page.mouse.move(0, 0);
    await page.locator('[aria-label^="Spark: "]').first().hover();
    const hover = page.locator('.workbench-hover, .monaco-hover, .custom-hover').filter({ hasText: pattern }).first();
    if (await hover.waitFor({ timeout: 2_000 }).then(() => true, () => false)) {
      return (await hover.textContent()) ?? '';
    }
    if (Date.now() > until) {
      throw new Error(`the status bar tooltip never matched ${pattern}`);
    }
  }
}

async function testAcceptanceFigures() {
  const tooltip = await statusTooltip(/Accepted [1-9]\d* of \d+ suggestions? \(\d+%\).*p50 latency \d+ ms/);
  step(`status bar tooltip: ${JSON.stringify(tooltip.match(/Accepted[^;]*; p50 latency \d+ ms/)?.[0])}`);
  await page.mouse.move(0, 0);
}

async function testThinking() {
  await typeHeader('slow.py', SLOW_TRIGGER);
  const typedAt = Date.now();
  await waitForStatus('Spark: thinking', 10_000);
  step(`status bar: Spark: thinking ${Date.now() - typedAt} ms after Enter (the model waits 2.5 s)`);
  await waitForEditor('the slow suggestion', (_lines, ghost) => ghost === SLOW_REPLY, 20_000);
  await waitForStatus('Spark: ready', 10_000);
  step(`the suggestion came ${Date.now() - typedAt} ms after Enter and the status is ready again`);
  await page.keyboard.press('Escape');
}

/** Move the action widget's focus to the first row matching `pattern` and run it. */
async function chooseAction(pattern) {
  const focused = page.locator('.action-widget .monaco-list-row.focused');
  for (let moves = 0; moves < 20; moves++) {
    const text = (await focused.count()) > 0 ? await focused.first().textContent() : '';
    if (pattern.test(text ?? '')) {
      await page.keyboard.press('Enter');
      return;
    }
    await page.keyboard.press('ArrowDown');
  }
  throw new Error(`no code action matching ${pattern} could be focused`);
}

async function testQuickFix() {
  const editor = await openFile('broken.py', 'def broken(x)');
  const squiggle = editor.locator('.squiggly-error');
  const diagnostic = await squiggle
    .first()
    .waitFor({ timeout: 5_000 })
    .then(() => true, () => false);
  step(diagnostic ? 'the syntax error is underlined (diagnostic published)' : 'no diagnostic published for the syntax error: using the quick-fix offered without one');
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('End');
  await page.keyboard.press('Control+.');
  const fix = page.locator('.action-widget .monaco-list-row').filter({ hasText: /Spark: Fix/ }).first();
  await fix.waitFor({ timeout: 15_000 });
  const offered = await page.locator('.action-widget .monaco-list-row').allTextContents();
  step(`code actions offered: ${JSON.stringify(offered)}`);
  await chooseAction(/Spark: Fix/);
  await editor.locator('.view-lines').filter({ hasText: 'def broken(x):' }).waitFor({ timeout: 20_000 });
  const text = await saveAndRead('broken.py');
  expectEqual(text, FIXED, 'broken.py after the quick-fix');
  step('the Spark quick-fix rewrote broken.py');
  return diagnostic;
}

async function runCommand(title) {
  await page.keyboard.press('Control+Shift+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

async function testEditSelection() {
  const editor = await openFile('broken.py', 'def broken(x):');
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home');
  await runCommand('Spark: Edit Selection');
  const input = page.locator('.quick-input-widget input');
  await page.locator('.quick-input-widget').filter({ hasText: 'Describe the change' }).waitFor();
  await input.fill(EDIT_INSTRUCTION);
  await page.keyboard.press('Enter');
  await editor.locator('.view-lines').filter({ hasText: 'return 2 * (x + 1)' }).waitFor({ timeout: 20_000 });
  expectEqual(await saveAndRead('broken.py'), EDITED, 'broken.py after Spark: Edit Selection');
  step('Spark: Edit Selection rewrote the selected line');
}

/** The user's settings.json as VS Code wrote it. */
function userSettings() {
  return JSON.parse(fs.readFileSync(path.join(dirs.userData, 'User', 'settings.json'), 'utf8'));
}

async function testLanguageToggle() {
  // The active editor is broken.py (python), left by the previous steps.
  const editor = page.locator('.editor-instance .monaco-editor').first();
  await page.locator('.tab.active').filter({ hasText: '.py' }).waitFor();
  await runCommand('Spark: Toggle Completions for the Current Language');
  await waitForStatus('Spark: ready, completions off for python', 15_000);
  expectEqual(userSettings()['spark.completion.languages']?.python, false, 'spark.completion.languages.python');
  step('the language toggle switched python off (status bar and user settings)');
  // The server honours it: typing what made a suggestion before shows none now.
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type(`def ${COMPLETION_TRIGGER}`, { delay: 15 });
  await page.keyboard.press('Enter');
  await page.waitForTimeout(3000);
  if ((await ghostText()).includes(COMPLETION_REPLY)) {
    throw new Error('a suggestion was shown in python while python was switched off');
  }
  step('no suggestion in python while it is off');
  await runCommand('Spark: Toggle Completions for the Current Language');
  await page.waitForFunction(
    () => !document.querySelector('[aria-label^="Spark: ready, completions off for python"]'),
    undefined,
    { timeout: 15_000 },
  );
  expectEqual(userSettings()['spark.completion.languages']?.python, true, 'spark.completion.languages.python after the second toggle');
  step('the language toggle switched python back on');
}

/** Next-edit proposals on screen: decoration text (injected, or a ::after content) per line. */
function readNextEditLabels() {
  const labels = [];
  for (const span of document.querySelectorAll('.monaco-editor .view-line span[class*="ced-"]')) {
    const after = getComputedStyle(span, '::after').content;
    const text = after && after !== 'none' && after !== 'normal' ? after.replace(/^"|"$/g, '') : span.textContent;
    if (text) labels.push(text.replace(/\u00a0/g, ' '));
  }
  return labels.join('|');
}

async function waitForNextEditLabel(label, timeout = 20_000) {
  await page.waitForFunction(
    ([read, wanted]) => new Function(`return (${read})()`)().includes(wanted),
    [readNextEditLabels.toString(), label],
    { timeout },
  );
}

async function testNextEdit() {
  const editor = await openFile('area.py', 'def area(w, h):');
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+Home');
  for (let i = 0; i < 9; i++) {
    await page.keyboard.press('ArrowRight');
  }
  await page.keyboard.press('Shift+ArrowRight');
  await page.keyboard.type('width', { delay: 30 });
  const typedAt = Date.now();
  await waitForNextEditLabel('idth');
  step(`next-edit proposal shown ${Date.now() - typedAt} ms after the rename: ${JSON.stringify(await page.evaluate(readNextEditLabels))}`);
  await page.keyboard.press('Escape');
  await page.waitForFunction(
    (read) => !new Function(`return (${read})()`)().includes('idth'),
    readNextEditLabels.toString(),
    { timeout: 5_000 },
  );
  step('Esc dismissed the proposal');
  await runCommand('Spark: Propose Next Edit');
  await waitForNextEditLabel('idth');
  step('Spark: Propose Next Edit showed it again');
  await editor.locator('.view-lines').click({ position: { x: 5, y: 5 } }); // focus, cursor on line 1
  await waitForNextEditLabel('idth', 5_000).catch(() => {});
  if (!(await page.evaluate(readNextEditLabels)).includes('idth')) {
    await runCommand('Spark: Propose Next Edit'); // the click moved no text, but be sure
    await waitForNextEditLabel('idth');
  }
  await page.keyboard.press('Tab'); // the cursor is on line 1: Tab jumps to line 2
  await page.waitForTimeout(300);
  if (!(await page.evaluate(readNextEditLabels)).includes('idth')) {
    throw new Error('the first Tab did not keep the proposal (it should only jump to it)');
  }
  const firstTab = await editor.locator('.view-lines').textContent();
  if (firstTab?.includes('return width')) {
    throw new Error('the first Tab applied the proposal instead of jumping to it');
  }
  step('the first Tab jumped to the proposal');
  await page.keyboard.press('Tab'); // now on it: accept
  await editor.locator('.view-lines').filter({ hasText: 'return width * h' }).waitFor({ timeout: 10_000 });
  expectEqual(await saveAndRead('area.py'), AREA_RENAMED, 'area.py after Tab, Tab and save');
  step('the second Tab accepted the proposal: the use is renamed too');
}

async function testToggle() {
  await runCommand('Spark: Toggle Completions');
  await waitForStatus('Spark: ready, completions off', 15_000);
  step('Toggle Completions reached the server; the status bar says completions are off');
}

async function screenshot(name) {
  if (page) {
    await page.screenshot({ path: path.join(dirs.artifacts, `${name}.png`), fullPage: true }).catch(() => {});
  }
}

function exited(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Stop each child's whole process group: stdin EOF first, then SIGTERM, then SIGKILL. */
async function cleanup() {
  await browser?.close().catch(() => {});
  for (const { child } of children.reverse()) {
    child.stdin?.end();
    for (const [signal, wait] of [[null, 3000], ['SIGTERM', 3000], ['SIGKILL', 1000]]) {
      if (signal) {
        try {
          process.kill(-child.pid, signal);
        } catch {
          break; // the group is gone
        }
      }
      if (await exited(child, wait)) {
        break;
      }
    }
  }
}

async function main() {
  writeFiles();
  step(`temp dir ${tmp}`);
  const capabilities = await probeCapabilities(SPARK_LSP);
  const codeActions = Boolean(capabilities.codeActionProvider);
  const serverCommands = capabilities.executeCommandProvider?.commands ?? [];
  step(`server capabilities: inlineCompletion=${Boolean(capabilities.inlineCompletionProvider)} codeAction=${codeActions} commands=${serverCommands.join(',')}`);
  if (!capabilities.inlineCompletionProvider) {
    throw new Error('the server does not advertise inlineCompletionProvider');
  }
  const model = await startModelServer();
  step(`scripted model server at ${model.url}`);
  installExtension();
  step('extension installed');
  const url = await startCodeServer(model);
  step(`code-server at ${url}`);
  await openWorkbench(url);
  step('workbench loaded');
  await waitForStatus('Spark: ready');
  await expectServerLog(/starting \S+\/workspace\/\.venv\/bin\/spark-lsp \(from virtual environment/);
  step('status bar: Spark: ready (server found in the workspace .venv)');
  await testInlineCompletion();
  await screenshot('after-completion');
  await testLineAccept();
  await testAlternatives();
  await testAcceptanceFigures();
  await testThinking();
  if (codeActions) {
    await testQuickFix();
  } else {
    step('SKIPPED quick-fix: the server does not advertise codeActionProvider');
  }
  if (serverCommands.includes('spark.editSelection') && codeActions) {
    await testEditSelection();
  } else {
    step('SKIPPED edit selection: the server does not advertise spark.editSelection');
  }
  await testLanguageToggle();
  const experimental = capabilities.experimental?.spark ?? {};
  if (experimental.nextEdit) {
    await testNextEdit();
    await screenshot('after-next-edit');
  } else {
    step('SKIPPED next edit: the server does not announce experimental.spark.nextEdit');
  }
  await testToggle();
  await screenshot('final');
}

function saveServerLog() {
  try {
    fs.writeFileSync(path.join(dirs.artifacts, 'Spark.log'), serverLog());
  } catch {
    // no log yet
  }
}

const deadline = setTimeout(async () => {
  console.error(`vscode e2e: timed out after ${TIMEOUT_S} s; screenshots and logs in ${dirs.artifacts}`);
  await screenshot('timeout');
  saveServerLog();
  await cleanup();
  process.exit(1);
}, TIMEOUT_S * 1000);

try {
  await main();
  clearTimeout(deadline);
  await cleanup();
  step('PASSED');
  if (process.env.SPARK_E2E_KEEP !== '1') {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
} catch (error) {
  clearTimeout(deadline);
  console.error(`vscode e2e: FAILED: ${error instanceof Error ? error.stack : error}`);
  await screenshot('failure');
  saveServerLog();
  await cleanup();
  console.error(`vscode e2e: screenshots and logs in ${dirs.artifacts}`);
  process.exit(1);
}
