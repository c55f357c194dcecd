#!/usr/bin/env bash
# Benchmark of the image service against the ceiling of a bare tonic server on this machine.
#
#   bench/run.sh                          # SQLite and PostgreSQL, 1,000 and 1,000,000 images
#   bench/run.sh --backends sqlite --sizes 1000 --duration 5     # a quick look
#
# Options (or the environment variable in brackets):
#   --backends LIST   sqlite,postgres                       [BENCH_BACKENDS]
#   --sizes LIST      1000,1000000 (images in the catalogue) [BENCH_SIZES]
#   --duration S      8 measured seconds per h2load run      [BENCH_DURATION]
#   --warmup S        2 warm-up seconds before each          [BENCH_WARMUP]
#   --out DIR         where results go (default: a new folder under /tmp) [BENCH_OUT]
#   --keep            keep the data folders and PostgreSQL databases      [BENCH_KEEP=1]
#   --no-build        use the binaries in target/release as they are      [BENCH_NO_BUILD=1]
# Also: BENCH_PG (postgres://postgres@127.0.0.1:5432, the server), BENCH_PG_ADMIN_DB (test,
# where CREATE DATABASE runs), BENCH_PORT (50151, the service), BENCH_ECHO_PORT (50161),
# BENCH_CLONE_CALLS (1500, most CloneImage calls per concurrency), BENCH_MAX_CONNECTIONS
# (the service's pool; default the service's own, 8), BENCH_QUIET_WAIT (60: seconds to wait
# for other work on the machine to stop before each measurement).
#
# Every load goes to 127.0.0.1, bounded in time (h2load -D) and in calls (clone_load). What it
# prints at the end is also in OUT/results.md; the raw figures are in OUT/results.jsonl.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

BACKENDS=${BENCH_BACKENDS:-sqlite,postgres}
SIZES=${BENCH_SIZES:-1000,1000000}
DURATION=${BENCH_DURATION:-8}
WARMUP=${BENCH_WARMUP:-2}
OUT=${BENCH_OUT:-}
KEEP=${BENCH_KEEP:-0}
NO_BUILD=${BENCH_NO_BUILD:-0}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
PG_ADMIN_DB=${BENCH_PG_ADMIN_DB:-test}
PORT=${BENCH_PORT:-50151}
ECHO_PORT=${BENCH_ECHO_PORT:-50161}
CLONE_CALLS=${BENCH_CLONE_CALLS:-1500}
QUIET_WAIT=${BENCH_QUIET_WAIT:-60}
SECRET=bench-s3cret

while [ $# -gt 0 ]; do
  case "$1" in
    --backends) BACKENDS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --no-build) NO_BUILD=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

# The loads are bounded: refuse settings that would make a run take hours.
if [ "${DURATION%.*}" -gt 60 ] || [ "${WARMUP%.*}" -gt 30 ] || [ "$CLONE_CALLS" -gt 100000 ]; then
  echo "--duration is at most 60 s, --warmup at most 30 s, BENCH_CLONE_CALLS at most 100000" >&2
  exit 2
fi

OUT=${OUT:-$(mktemp -d /tmp/image-bench.XXXXXX)}
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
: > "$RESULTS"
say() { printf '\n== %s\n' "$*" >&2; }
STARTED=$(date +%s)

# --- tools -----------------------------------------------------------------------------------
if ! command -v h2load >/dev/null; then
  say "installing h2load (Debian nghttp2-client)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client >/dev/null
fi
for tool in curl python3 cargo; do
  command -v $tool >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done
case ",$BACKENDS," in
  *,postgres,*) command -v psql >/dev/null || { echo "psql is needed for PostgreSQL" >&2; exit 1; } ;;
esac
PY="python3 $ROOT/bench/grpc.py"

# --- build -----------------------------------------------------------------------------------
if [ "$NO_BUILD" != 1 ]; then
  say "building the service and the benchmark's examples (release)"
  cargo build --release --bin image-service --example echo --example seed --example clone_load
fi
BIN=$ROOT/target/release/image-service
EX=$ROOT/target/release/examples
for b in "$BIN" "$EX/echo" "$EX/seed" "$EX/clone_load"; do
  [ -x "$b" ] || { echo "missing $b: build first" >&2; exit 1; }
done
REVISION=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)

# --- processes started here, stopped on exit -------------------------------------------------
PIDS=()
PG_DBS=()
DATA_DIRS=()
pg_admin() { # sql
  psql "$PG/$PG_ADMIN_DB" -v ON_ERROR_STOP=1 -qAt -c "$1"
}
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$KEEP" != 1 ]; then
    for db in "${PG_DBS[@]}"; do pg_admin "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; done
    for d in "${DATA_DIRS[@]}"; do rm -rf "$d"; done
  fi
}
trap cleanup EXIT
stop() { # pid
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local rest=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || rest+=("$p"); done
  PIDS=("${rest[@]}")
}
wait_port() { # port pid
  for _ in $(seq 1 240); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || { echo "process $2 exited before listening on $1" >&2; return 1; }
    sleep 0.25
  done
  echo "nothing listens on 127.0.0.1:$1" >&2; return 1
}
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
    echo "127.0.0.1:$1 is taken; set BENCH_PORT / BENCH_ECHO_PORT" >&2; exit 1
  fi
}
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# Calls the service answered with a grpc-status other than 0: it logs each one (info
# "refused" for the caller's errors, error "failed" for its own).
refusals() { grep -cE ' (refused|failed)' "$1" || true; }

# Other work on the machine (a build, a test suite) takes cores from the server under test. Each
# run waits for the machine to be idle first, and records how many cores other processes used
# while it measured ("other" in the tables).
quiet() {
  local q
  q=$($PY quiet --threshold 0.15 --max-wait "$QUIET_WAIT")
  case $q in
    *'"quiet": true'*) ;;
    *) echo "   warning: the machine is still busy ($q); measuring anyway" >&2 ;;
  esac
}

# --- one h2load run: appends a JSON line ------------------------------------------------------
# h2 CONNECTIONS STREAMS URL BODY TOKEN SERVER_PID PG(0/1) EXTRA_JSON
H2_RUN=0
h2() {
  local c=$1 m=$2 url=$3 body=$4 token=$5 server=$6 pg=$7 extra=$8 base cpu pgflag=()
  H2_RUN=$((H2_RUN + 1))
  base=$OUT/h2load-$H2_RUN
  [ "$pg" = 1 ] && pgflag=(--pg)
  quiet
  cpu=$($PY measure --pids "$server" "${pgflag[@]}" --warmup "$WARMUP" --out "$base.out" -- \
    h2load -c "$c" -m "$m" -t 1 -D "$DURATION" --warm-up-time="$WARMUP" \
    -d "$body" -H 'content-type: application/grpc' -H 'te: trailers' \
    ${token:+-H "authorization: Bearer $token"} \
    --log-file="$base.log" "$url")
  $PY record h2load "$base.out" "$base.log" "$cpu" "$extra" "$c × $m" >> "$RESULTS"
  rm -f "$base.log"
}

# --- a grpc-status check with curl: appends a JSON line ---------------------------------------
# check TARGET URL BODY TOKEN RPC
check() {
  local target=$1 url=$2 body=$3 token=$4 rpc=$5 status message bytes shape
  curl -sS --http2-prior-knowledge --max-time 60 -X POST \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    ${token:+-H "authorization: Bearer $token"} \
    --data-binary "@$body" -D "$OUT/check.headers" -o "$OUT/check.body" "$url"
  # HTTP/2 trailers come after the body; curl writes them to the header dump too.
  status=$(tr -d '\r' < "$OUT/check.headers" | awk -F': ' 'tolower($1)=="grpc-status" {print $2}' | tail -n 1)
  message=$(tr -d '\r' < "$OUT/check.headers" | awk -F': ' 'tolower($1)=="grpc-message" {print $2}' | tail -n 1)
  bytes=$(stat -c %s "$OUT/check.body")
  shape=$($PY inspect "$OUT/check.body")
  python3 -c 'import json,sys; print(json.dumps({"kind":"check","target":sys.argv[1],"rpc":sys.argv[2],"grpc_status":sys.argv[3],"response":sys.argv[4]}))' \
    "$target" "$rpc" "${status:-missing}" "$bytes bytes; top-level fields (repeated ones counted): $shape" >> "$RESULTS"
  echo "   check $target $rpc: grpc-status ${status:-missing}${message:+ ($message)}, $bytes bytes $shape" >&2
  if [ "${status:-missing}" != 0 ]; then
    echo "   $rpc did not answer grpc-status 0: the figures would measure errors" >&2
    cat "$OUT/check.headers" >&2
    exit 1
  fi
}

# --- echo ceiling ----------------------------------------------------------------------------
ECHO_BODY=$OUT/echo.body
$PY body get 00000000-0000-4000-8000-000000000000 > "$ECHO_BODY"
ECHO_URL=http://127.0.0.1:$ECHO_PORT/bench.v1.Echo/Echo
echo_ceiling() { # when
  local when=$1 c m pid
  port_free "$ECHO_PORT"
  "$EX/echo" "127.0.0.1:$ECHO_PORT" 2> "$OUT/echo.log" &
  pid=$!
  PIDS+=("$pid")
  wait_port "$ECHO_PORT" "$pid"
  say "echo ceiling ($when)"
  check echo "$ECHO_URL" "$ECHO_BODY" "" Echo
  for cm in "16 1" "64 10"; do
    read -r c m <<< "$cm"
    h2 "$c" "$m" "$ECHO_URL" "$ECHO_BODY" "" "$pid" 0 "{\"kind\":\"echo\",\"when\":\"$when\"}"
    $PY show "$RESULTS" >&2
  done
  stop "$pid"
}

echo_ceiling start

# --- the service, per backend and catalogue size ----------------------------------------------
SHARE_USERS=$(seq -f 'user%04g' 1 100 | tr '\n' ' ')
SVC=http://127.0.0.1:$PORT/cloud.image.v1.ImageService
IFS=, read -r -a backend_list <<< "$BACKENDS"
IFS=, read -r -a size_list <<< "$SIZES"
for backend in "${backend_list[@]}"; do
  for size in "${size_list[@]}"; do
    say "$backend, $size images"
    data=$(mktemp -d /tmp/image-bench-data.XXXXXX)
    DATA_DIRS+=("$data")
    case $backend in
      sqlite) url="sqlite://$data/images.db?mode=rwc"; pg=0 ;;
      postgres)
        db=imgbench_$size
        pg_admin "DROP DATABASE IF EXISTS $db" 2>/dev/null
        pg_admin "CREATE DATABASE $db"
        PG_DBS+=("$db")
        url=$PG/$db${BENCH_PG_PARAMS:+?$BENCH_PG_PARAMS}; pg=1 ;;
      *) echo "unknown backend $backend" >&2; exit 2 ;;
    esac
    svc=("$BIN" --data-dir "$data" --jwt-secret "$SECRET" --database-url "$url")

    "${svc[@]}" migrate 2> "$OUT/migrate.log"
    "$EX/seed" --database-url "$url" --images "$size" > "$OUT/seed.env" 2> "$OUT/seed-$backend-$size.log"
    sed 's/^/   /' "$OUT/seed-$backend-$size.log" >&2
    # shellcheck disable=SC1091
    . "$OUT/seed.env"
    python3 -c 'import json,sys; print(json.dumps({"kind":"seed","backend":sys.argv[1],"images":int(sys.argv[2]),"users":int(sys.argv[3]),"members":int(sys.argv[4]),"visible":int(sys.argv[5]),"seconds":sys.argv[6]}))' \
      "$backend" "$SEEDED_IMAGES" "$SEEDED_USERS" "$SEEDED_MEMBERS" "$VISIBLE_TO_ALICE" "$SEED_SECONDS" >> "$RESULTS"
    token=$("${svc[@]}" token --user alice --ttl 2h 2>/dev/null)

    $PY body get "$GET_ID" > "$OUT/get.body"
    $PY body list 50 > "$OUT/list.body"
    # shellcheck disable=SC2086
    $PY body share "$SHARE_ID" $SHARE_USERS > "$OUT/share.body"

    port_free "$PORT"
    log=$OUT/service-$backend-$size.log
    "${svc[@]}" serve --listen "127.0.0.1:$PORT" ${BENCH_MAX_CONNECTIONS:+--max-connections "$BENCH_MAX_CONNECTIONS"} 2> "$log" &
    pid=$!
    PIDS+=("$pid")
    wait_port "$PORT" "$pid"
    sleep 0.5
    idle=$(hwm_kib "$pid")

    for rpc in GetImage ListImages ShareImage; do
      case $rpc in GetImage) b=get ;; ListImages) b=list ;; ShareImage) b=share ;; esac
      check "$backend/$size" "$SVC/$rpc" "$OUT/$b.body" "$token" "$rpc"
    done

    # 16 connections × 1 stream; then 64 streams for the memory figure; then 64 × 10.
    for cm in "16 1" "64 10"; do
      read -r c m <<< "$cm"
      if [ "$c" = 64 ]; then
        c16=$(hwm_kib "$pid")
        quiet
        h2load -c 64 -m 1 -t 1 -D "$DURATION" -d "$OUT/list.body" -H 'content-type: application/grpc' \
          -H 'te: trailers' -H "authorization: Bearer $token" "$SVC/ListImages" > "$OUT/mem-$backend-$size.out" 2>&1 || true
        c64=$(hwm_kib "$pid")
        echo "   VmHWM: idle $idle KiB, after 16 × 1 $c16 KiB, after 64 × 1 ListImages $c64 KiB" >&2
      fi
      for rpc in GetImage ListImages ShareImage; do
        case $rpc in GetImage) b=get ;; ListImages) b=list ;; ShareImage) b=share ;; esac
        before=$(refusals "$log")
        h2 "$c" "$m" "$SVC/$rpc" "$OUT/$b.body" "$token" "$pid" "$pg" \
          "{\"kind\":\"rpc\",\"backend\":\"$backend\",\"images\":$size,\"rpc\":\"$rpc\"}"
        # grpc-status ≠ 0 is invisible to h2load (HTTP 200): take the service's own count.
        $PY amend "$RESULTS" errors $(( $(refusals "$log") - before ))
        $PY show "$RESULTS" >&2
      done
    done
    c640=$(hwm_kib "$pid")
    echo "   VmHWM after 64 × 10: $c640 KiB" >&2

    # CloneImage: every call names new copies, so it runs from clone_load, not h2load.
    for cm in "16 1" "64 10"; do
      read -r c m <<< "$cm"
      quiet
      pgflag=(); [ "$pg" = 1 ] && pgflag=(--pg)
      cpu=$($PY measure --pids "$pid" "${pgflag[@]}" --out "$OUT/clone.out" -- \
        "$EX/clone_load" --addr "127.0.0.1:$PORT" --token "$token" --source "$CLONE_ID" \
        --connections "$c" --streams "$m" --requests "$CLONE_CALLS" --duration "$DURATION" \
        --count 10 --prefix "b$c-$m")
      $PY record clone "$(tail -n 1 "$OUT/clone.out")" "$cpu" \
        "{\"kind\":\"rpc\",\"backend\":\"$backend\",\"images\":$size,\"rpc\":\"CloneImage ×10\"}" \
        "$c × $m" >> "$RESULTS"
      $PY show "$RESULTS" >&2
    done
    final=$(hwm_kib "$pid")
    python3 -c 'import json,sys; print(json.dumps({"kind":"memory","backend":sys.argv[1],"images":int(sys.argv[2]),"idle_kib":int(sys.argv[3]),"c16_kib":int(sys.argv[4]),"c64_kib":int(sys.argv[5]),"c640_kib":int(sys.argv[6]),"final_kib":int(sys.argv[7])}))' \
      "$backend" "$size" "$idle" "$c16" "$c64" "$c640" "$final" >> "$RESULTS"
    stop "$pid"
    if [ "$KEEP" != 1 ]; then
      [ "$backend" = postgres ] && pg_admin "DROP DATABASE IF EXISTS $db"
      rm -rf "$data"
    fi
  done
done

echo_ceiling end

# --- report ----------------------------------------------------------------------------------
{
  echo "Machine: $(nproc) cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); service at $REVISION"
  echo "h2load: $(h2load --version | head -n 1), -t 1, ${WARMUP} s warm-up + ${DURATION} s measured per run; whole benchmark $(( $(date +%s) - STARTED )) s"
  echo
  $PY report "$RESULTS"
} > "$OUT/results.md"
cat "$OUT/results.md"
echo "results: $OUT/results.md and $OUT/results.jsonl" >&2
