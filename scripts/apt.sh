#!/usr/bin/env bash
# Retries and Debian package installs shared by the CI scripts (.ci/run, scripts/vscode-e2e.sh).
#
#   . scripts/apt.sh                                # defines retry and apt_install
#   bash scripts/apt.sh [APT-OPTION...] PACKAGE...  # installs the packages (root, apt-get)
#
# Mirrors and npm fail now and then on a fresh CI machine, so each network step is retried.

# retry N COMMAND...: run COMMAND up to N times, 5 s, 10 s, ... apart.
retry() {
  local attempts="$1" n=1 me="${0##*/}"; shift
  until "$@"; do
    if [ "$n" -ge "$attempts" ]; then
      printf '%s: failed %d times: %s\n' "$me" "$n" "$*" >&2
      return 1
    fi
    printf '%s: attempt %d failed, retrying in %ds: %s\n' "$me" "$n" $((5 * n)) "$*" >&2
    sleep $((5 * n)); n=$((n + 1))
  done
}

# apt_install [APT-OPTION...] PACKAGE...: refresh the package lists, then install; as root only
# (anyone else is told which packages to install).
apt_install() {
  local packages=()
  local arg
  for arg in "$@"; do
    if [ "${arg#-}" = "$arg" ]; then packages+=("$arg"); fi
  done
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    printf '%s: install these packages first: %s\n' "${0##*/}" "${packages[*]}" >&2
    return 1
  fi
  retry 3 apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive retry 3 apt-get install -y -q "$@" >/dev/null
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  [ "$#" -gt 0 ] || { echo "usage: bash scripts/apt.sh [APT-OPTION...] PACKAGE..." >&2; exit 2; }
  apt_install "$@"
fi
