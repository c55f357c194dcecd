#!/usr/bin/env bash
# Node.js client suite: installs @grpc/grpc-js and @grpc/proto-loader (package-lock.json),
# starts the image service, runs `node --test` and stops the server (which must exit 0 within
# 30 s of SIGTERM). Exits non-zero if anything failed.
#
#   IMAGE_SERVICE_BIN   server binary (default ../../target/debug/image-service)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

npm ci --no-audit --no-fund --loglevel=error

source ../lib/server.sh
trap 'server_stop || true' EXIT
server_start

status=0
node --test --test-concurrency=1 test/ || status=$?

trap - EXIT
stop_status=0
server_stop || stop_status=$?
if [ "$status" -ne 0 ]; then
  echo "node --test failed (exit $status)" >&2
  exit "$status"
fi
if [ "$stop_status" -ne 0 ]; then
  exit "$stop_status"
fi
echo "node client suite passed"
