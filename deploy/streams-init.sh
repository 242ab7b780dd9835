#!/bin/sh
# One-shot setup of a fresh cluster (docker-compose.yml's streams-init service): waits until the
# cluster answers, then creates a stream and a delivery stream of it into S3 (MinIO), unless they
# exist already. POSIX sh: the runtime image's /bin/sh runs it. `sh streams-init.sh --help`.
set -eu

usage() {
  cat <<'USAGE'
Usage: sh deploy/streams-init.sh [--help]

Waits for the cluster at $STREAMS_ENDPOINT, then creates the stream $STREAM (if missing) and the
delivery stream $DELIVERY of it into $S3_BUCKET at $S3_ENDPOINT (if missing). Retries every step
until $INIT_TIMEOUT seconds have passed. Exits 0 when both exist.

Environment (defaults in brackets):
  STREAMS_ENDPOINT       a node's gRPC address, read by the CLI [http://node-1:7400]
  STREAMS_CLI_DLL        run `dotnet $STREAMS_CLI_DLL` as the CLI instead of `streams` on PATH
  STREAM                 [orders]        STREAM_SHARDS  [2]
  DELIVERY               [orders-to-s3]  S3_PREFIX      [orders/]
  S3_ENDPOINT            [http://minio:9000]
  S3_BUCKET              [streams-lake]
  S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY   (required)
  BUFFER_INTERVAL        seconds an object may wait for more records [60]
  INIT_TIMEOUT           seconds [180]
USAGE
}

case "${1:-}" in
  -h | --help)
    usage
    exit 0
    ;;
  "") ;;
  *)
    usage >&2
    echo "streams-init: unknown argument '$1'" >&2
    exit 2
    ;;
esac

: "${STREAMS_ENDPOINT:=http://node-1:7400}"
export STREAMS_ENDPOINT
STREAM="${STREAM:-orders}"
STREAM_SHARDS="${STREAM_SHARDS:-2}"
DELIVERY="${DELIVERY:-orders-to-s3}"
S3_PREFIX="${S3_PREFIX:-orders/}"
S3_ENDPOINT="${S3_ENDPOINT:-http://minio:9000}"
S3_BUCKET="${S3_BUCKET:-streams-lake}"
BUFFER_INTERVAL="${BUFFER_INTERVAL:-60}"
INIT_TIMEOUT="${INIT_TIMEOUT:-180}"
if [ -z "${S3_ACCESS_KEY_ID:-}" ] || [ -z "${S3_SECRET_ACCESS_KEY:-}" ]; then
  echo "streams-init: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY" >&2
  exit 2
fi

cli() {
  if [ -n "${STREAMS_CLI_DLL:-}" ]; then
    dotnet "$STREAMS_CLI_DLL" "$@"
  else
    streams "$@"
  fi
}

deadline=$(($(date +%s) + INIT_TIMEOUT))
# Runs "$@" until it succeeds; gives up (exit 1) at the deadline, showing the last output.
retry() {
  what="$1"
  shift
  while :; do
    if out="$("$@" 2>&1)"; then
      [ -z "$out" ] || printf '%s\n' "$out"
      return 0
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      printf 'streams-init: gave up on %s after %s s:\n%s\n' "$what" "$INIT_TIMEOUT" "$out" >&2
      exit 1
    fi
    sleep 2
  done
}

ensure_stream() {
  cli stream describe "$STREAM" >/dev/null 2>&1 && return 0
  cli stream create "$STREAM" --shards "$STREAM_SHARDS"
}

ensure_delivery() {
  cli firehose describe "$DELIVERY" >/dev/null 2>&1 && return 0
  cli firehose create "$DELIVERY" --source "$STREAM" \
    --s3-endpoint "$S3_ENDPOINT" --s3-bucket "$S3_BUCKET" --prefix "$S3_PREFIX" \
    --s3-access-key-id "$S3_ACCESS_KEY_ID" --s3-secret-access-key "$S3_SECRET_ACCESS_KEY" \
    --buffer-interval "$BUFFER_INTERVAL"
}

echo "streams-init: waiting for the cluster at $STREAMS_ENDPOINT"
retry "cluster status" cli cluster status
retry "stream $STREAM" ensure_stream
retry "delivery stream $DELIVERY" ensure_delivery
echo "streams-init: stream $STREAM delivers to s3://$S3_BUCKET/$S3_PREFIX at $S3_ENDPOINT as $DELIVERY"
