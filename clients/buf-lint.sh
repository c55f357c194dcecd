#!/usr/bin/env bash
# Lints proto/ against buf's STANDARD rules (buf.yaml at the repository root), with the buf
# binary of the npm package @bufbuild/buf, a devDependency of clients/node.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
BUF=node/node_modules/.bin/buf
if [ ! -x "$BUF" ]; then
  (cd node && npm ci --no-audit --no-fund --loglevel=error)
fi
cd ..
echo "buf $("clients/$BUF" --version)"
clients/$BUF build
clients/$BUF lint
echo "buf lint: proto/ passes STANDARD"
