#!/usr/bin/env bash
# Source this file (`. scripts/ensure-node.sh`) to have a Node.js >= 22 on PATH.
#
# When the machine's node is older (or missing), Node 24 LTS is taken from the npm registry (the
# node-linux-<arch> package carries the binary and its headers; the headers let node-gyp build native
# modules such as isolated-vm without downloading anything else) into .node/ at the repository root,
# and PATH and npm_config_nodedir point at it. Nothing is changed when a new enough node is on PATH.
TWINBRIDGE_NODE_VERSION="${TWINBRIDGE_NODE_VERSION:-24.22.3}"
_tb_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_tb_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$_tb_major" -lt 22 ]; then
  case "$(uname -m)" in
    x86_64) _tb_arch=x64 ;;
    aarch64 | arm64) _tb_arch=arm64 ;;
    *) echo "ensure-node: no Node.js package for $(uname -m); install Node.js 22 or 24" >&2; return 1 2>/dev/null || exit 1 ;;
  esac
  _tb_pkg="$_tb_root/.node/node_modules/node-linux-$_tb_arch"
  if [ "$("$_tb_pkg/bin/node" -v 2>/dev/null)" != "v$TWINBRIDGE_NODE_VERSION" ]; then
    echo "ensure-node: node $(node -v 2>/dev/null || echo missing) is too old; installing Node $TWINBRIDGE_NODE_VERSION from the npm registry into .node/" >&2
    mkdir -p "$_tb_root/.node"
    npm install --prefix "$_tb_root/.node" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "node-linux-$_tb_arch@$TWINBRIDGE_NODE_VERSION" >&2 || { return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$_tb_pkg/bin:$PATH"
  export npm_config_nodedir="$_tb_pkg"
fi
unset _tb_root _tb_major _tb_arch _tb_pkg
