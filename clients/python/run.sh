#!/usr/bin/env bash
# Python client suite: installs grpcio and pytest in a venv, generates the stubs from
# ../../proto, starts the image service, runs pytest and stops the server (which must exit 0
# within 30 s of SIGTERM). Exits non-zero if anything failed.
#
#   IMAGE_SERVICE_BIN   server binary (default ../../target/debug/image-service)
#   extra arguments     passed to pytest, e.g. ./run.sh -k sharing -x
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
HERE="$(pwd)"
PROTO_DIR="$(cd ../../proto && pwd)"

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt

# Stubs are generated for this run only, into a temporary folder.
GEN_DIR="$(mktemp -d)"
export GEN_DIR
source ../lib/server.sh
cleanup() {
  server_stop || true
  rm -rf "$GEN_DIR"
}
trap cleanup EXIT

mapfile -t PROTOS < <(cd "$PROTO_DIR" && find . -name '*.proto' | sed 's|^\./||' | sort)
.venv/bin/python -m grpc_tools.protoc -I "$PROTO_DIR" \
  --python_out="$GEN_DIR" --pyi_out="$GEN_DIR" --grpc_python_out="$GEN_DIR" "${PROTOS[@]}"
echo "generated Python stubs for: ${PROTOS[*]}"

server_start

status=0
PYTHONPATH="$GEN_DIR${PYTHONPATH:+:$PYTHONPATH}" .venv/bin/python -m pytest -p no:cacheprovider -ra \
  "$HERE/tests" "$@" || status=$?

trap - EXIT
stop_status=0
server_stop || stop_status=$?
rm -rf "$GEN_DIR"
if [ "$status" -ne 0 ]; then
  echo "pytest failed (exit $status)" >&2
  exit "$status"
fi
if [ "$stop_status" -ne 0 ]; then
  exit "$stop_status"
fi
echo "python client suite passed"
