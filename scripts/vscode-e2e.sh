#!/usr/bin/env bash
# End-to-end test of the VS Code extension in a real VS Code (code-server in headless Chromium).
#
#   bash scripts/vscode-e2e.sh                # install (cached), build the .vsix, run the e2e
#   bash scripts/vscode-e2e.sh --install-only # only install code-server and the system packages
#
# code-server 4.100.3 (the newest release that runs on Node 20) is installed from npm with its
# install scripts disabled and finished by hand (docs/editor-testing.md explains why), into a
# cache outside the repository: $SPARK_VSCODE_E2E_CACHE, default ~/.cache/spark-lsp/vscode-e2e.
# A finished install is marked with a stamp file; an interrupted one is discarded and redone.
# Screenshots and logs of a failing run are kept in a temporary directory printed at the end.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
EXT_DIR="$ROOT/editor-clients/vscode"
CODE_SERVER_VERSION="4.100.3"
CACHE="${SPARK_VSCODE_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spark-lsp/vscode-e2e}"
CS_HOME="$CACHE/code-server-$CODE_SERVER_VERSION"
CS_BIN="$CS_HOME/node_modules/.bin/code-server"
CHROMIUM="${SPARK_E2E_CHROMIUM:-/usr/bin/chromium}"
APT_PACKAGES=(build-essential pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev
  ripgrep chromium)

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'vscode-e2e: %s\n' "$*" >&2; exit 1; }
# shellcheck source=apt.sh
. "$ROOT/scripts/apt.sh"   # retry, apt_install

npm_q() { npm --no-audit --no-fund --loglevel=error "$@"; }

need_system_packages() {
  local missing=()
  command -v node >/dev/null || die "Node.js 20 is required (node not found)"
  [ "$(node -p 'process.versions.node.split(".")[0]')" = 20 ] \
    || die "code-server $CODE_SERVER_VERSION needs Node.js 20, found $(node --version)"
  command -v "$CHROMIUM" >/dev/null || [ -x "$CHROMIUM" ] || missing+=(chromium)
  command -v rg >/dev/null || missing+=(ripgrep)
  command -v make >/dev/null && command -v g++ >/dev/null || missing+=(build-essential)
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  for header in /usr/include/X11/Xlib.h /usr/include/X11/extensions/XKBfile.h \
    /usr/include/gssapi/gssapi.h /usr/include/libsecret-1/libsecret/secret.h; do
    [ -e "$header" ] || missing+=(headers)
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing system packages (missing: ${missing[*]})"
  apt_install "${APT_PACKAGES[@]}" || die "could not install: ${APT_PACKAGES[*]}"
}

# The steps of code-server's postinstall.sh, with Debian's rg instead of a downloaded one.
install_code_server() {
  if [ -f "$CS_HOME/.installed" ] && "$CS_BIN" --version >/dev/null 2>&1; then
    echo "code-server $CODE_SERVER_VERSION: cached in $CS_HOME" >&2
    return 0
  fi
  log "installing code-server $CODE_SERVER_VERSION into $CS_HOME (about 5 minutes)"
  local stage="$CS_HOME.partial" install_log="$CACHE/install.log"
  rm -rf "$stage" "$CS_HOME"
  mkdir -p "$stage"
  echo "(log: $install_log)" >&2
  # Not `if ! ( ... )`: bash ignores set -e inside a subshell that is an if condition.
  local status=0
  set +e
  (
    set -euo pipefail
    cd "$stage"
    echo '{"name":"spark-vscode-e2e-code-server","private":true}' > package.json
    retry 3 npm_q install "code-server@$CODE_SERVER_VERSION" --ignore-scripts
    cd node_modules/code-server/lib/vscode
    retry 3 npm_q install --omit=dev --ignore-scripts
    mkdir -p node_modules/@vscode/ripgrep/bin
    cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
    npm_config_yes=true retry 2 npm_q rebuild
    ln -sfn node_modules node_modules.asar
    (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
    (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
    (cd extensions && retry 3 npm_q install --omit=dev)
    cd "$stage/node_modules/argon2"
    npm_config_yes=true retry 2 npx --yes node-pre-gyp install --fallback-to-build
  ) >"$install_log" 2>&1
  status=$?
  set -e
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$install_log" >&2
    die "code-server install failed (full log: $install_log; partial install: $stage)"
  fi
  mv "$stage" "$CS_HOME"
  # npm writes absolute paths nowhere we rely on, so the move is safe; check that it runs.
  "$CS_BIN" --version >/dev/null || die "code-server was installed but does not start: $CS_BIN"
  touch "$CS_HOME/.installed"
}

ensure_python() {
  if [ ! -x "$ROOT/.venv/bin/spark-lsp" ]; then
    log "creating $ROOT/.venv with spark-lsp"
    python3 -m venv "$ROOT/.venv"
    retry 3 "$ROOT/.venv/bin/python" -m pip install --quiet -e "$ROOT"
  fi
}

build_vsix() {
  log "building the extension (.vsix)"
  cd "$EXT_DIR"
  # --ignore-scripts: nothing the build needs has an install script that must run (esbuild
  # finds its platform package by itself), and vsce's optional keytar would try GitHub.
  retry 3 npm_q ci --ignore-scripts
  npm run --silent check
  npm test --silent
  npm run --silent package
  cd "$ROOT"
}

main() {
  local started=$SECONDS
  need_system_packages
  install_code_server
  [ "${1:-}" = "--install-only" ] && return 0
  ensure_python
  build_vsix
  log "running the end-to-end test"
  SPARK_E2E_CODE_SERVER="$CS_BIN" SPARK_E2E_CHROMIUM="$CHROMIUM" \
    SPARK_E2E_PYTHON="$ROOT/.venv/bin/python" SPARK_E2E_SERVER="$ROOT/.venv/bin/spark-lsp" \
    SPARK_E2E_VSIX="$EXT_DIR/spark-lsp.vsix" \
    node "$EXT_DIR/e2e/run.mjs"
  echo "vscode-e2e: passed in $((SECONDS - started)) s" >&2
}

main "$@"
