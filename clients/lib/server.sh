# Sourced by the clients' run.sh scripts: starts the image service on a free loopback port in
# a fresh data folder, with a JWT secret and the users the suites need, and stops it again.
#
#   server_start   exports IMAGE_SERVICE_ADDR and TOKEN_<USER> (ROOT is an administrator;
#                  NOBODY is signed correctly but names no user of the directory)
#   server_stop    sends SIGTERM and fails unless the server exits 0 within 30 s
#
# IMAGE_SERVICE_BIN picks the binary; the default is the repository's debug build.

CLIENTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(cd "$CLIENTS_DIR/.." && pwd)"
IMAGE_SERVICE_BIN="${IMAGE_SERVICE_BIN:-$REPO_DIR/target/debug/image-service}"
# Relative paths are taken from the calling suite's folder, where run.sh runs.
case "$IMAGE_SERVICE_BIN" in
  /*) ;;
  *) IMAGE_SERVICE_BIN="$(pwd)/$IMAGE_SERVICE_BIN" ;;
esac
export IMAGE_SERVICE_BIN

SERVER_PID=""
SERVER_DIR=""
SERVER_SECRET="clients-suite-secret-$$"

# Users as "id username": ids differ from usernames (except root and alice) so that the suites
# can name a user either way.
SERVER_USERS=(
  "root root"
  "alice alice"
  "u-bob bob"
  "u-carol carol"
  "u-dave dave"
  "u-bulk bulk"
)

svc() {
  "$IMAGE_SERVICE_BIN" --data-dir "$SERVER_DIR/data" --jwt-secret "$SERVER_SECRET" \
    --log-format json "$@"
}

server_start() {
  if [ ! -x "$IMAGE_SERVICE_BIN" ]; then
    echo "image-service binary not found at $IMAGE_SERVICE_BIN (run cargo build)" >&2
    return 1
  fi
  SERVER_DIR="$(mktemp -d)"
  mkdir -p "$SERVER_DIR/data"
  local entry id name
  for entry in "${SERVER_USERS[@]}"; do
    read -r id name <<<"$entry"
    svc users add "$id" "$name" >"$SERVER_DIR/users.log" 2>&1 || {
      cat "$SERVER_DIR/users.log" >&2
      return 1
    }
  done

  : >"$SERVER_DIR/server.log"
  # Started directly (not through svc) so that $! is the server's own pid.
  "$IMAGE_SERVICE_BIN" --data-dir "$SERVER_DIR/data" --jwt-secret "$SERVER_SECRET" \
    --log-format json serve --listen 127.0.0.1:0 --shutdown-grace 20s \
    </dev/null >>"$SERVER_DIR/server.log" 2>&1 &
  SERVER_PID=$!

  local addr="" waited=0
  while [ -z "$addr" ]; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "image-service exited before listening:" >&2
      cat "$SERVER_DIR/server.log" >&2
      SERVER_PID=""
      return 1
    fi
    if [ "$waited" -ge 300 ]; then
      echo "image-service did not log its address within 30 s" >&2
      cat "$SERVER_DIR/server.log" >&2
      return 1
    fi
    addr="$(sed -n 's/.*"message":"listening".*"addr":"\([^"]*\)".*/\1/p' "$SERVER_DIR/server.log" | head -n 1 || true)"
    [ -n "$addr" ] || { sleep 0.1; waited=$((waited + 1)); }
  done
  export IMAGE_SERVICE_ADDR="$addr"

  for entry in "${SERVER_USERS[@]}"; do
    read -r id name <<<"$entry"
    local var="TOKEN_$(echo "$name" | tr '[:lower:]' '[:upper:]')"
    local admin=()
    [ "$name" = root ] && admin=(--admin)
    export "$var=$(svc token --user "$id" "${admin[@]}" 2>/dev/null)"
  done
  # A well-signed token for a user the directory does not know.
  export TOKEN_NOBODY="$(svc token --user nobody 2>/dev/null)"
  echo "image-service pid $SERVER_PID listening on $IMAGE_SERVICE_ADDR (log: $SERVER_DIR/server.log)"
}

# Stops the server with SIGTERM; fails unless it exits with status 0 within 30 s.
server_stop() {
  [ -n "$SERVER_PID" ] || return 0
  local pid=$SERVER_PID waited=0 status=0
  SERVER_PID=""
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge 300 ]; then
      echo "FAIL: image-service did not exit within 30 s of SIGTERM" >&2
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  wait "$pid" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "FAIL: image-service exited with status $status after SIGTERM; last log lines:" >&2
    tail -n 20 "$SERVER_DIR/server.log" >&2
    return 1
  fi
  echo "image-service stopped cleanly (exit 0) after SIGTERM"
  rm -rf "$SERVER_DIR"
}
