#!/usr/bin/env bash
# Checks the deployment files as far as this machine can without a Docker engine or a Kubernetes
# cluster. Run `deploy/check.sh --help` for what it does.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/check.sh [--keep] [-h|--help]

Checks deploy/Dockerfile, deploy/docker-compose.yml and deploy/k8s/ without Docker:
  1. structure: parses the compose file and every manifest (PyYAML) and the Dockerfile, and
     checks what must hold between them (three nodes, --peers lists against service names and
     ports, volumes, healthcheck, probes, PDB selector, node ids, referenced projects copied)
  2. the image build: copies exactly what the Dockerfile's build stage COPYs (minus
     deploy/Dockerfile.dockerignore) into a temporary directory and runs its RUN lines there
     (dotnet restore, dotnet publish) in order, container paths mapped under that directory; checks
     the published output holds Streams.Server.dll and cli/streams.dll
  3. the entrypoint: starts the published server the way the image would (its ENTRYPOINT,
     WORKDIR and ENV, compose's node-1 command) as a one-node cluster on 127.0.0.1 and free
     ports; runs the image's HEALTHCHECK command against it, waits for /readyz, runs
     deploy/streams-init.sh (compose's setup) twice with the published CLI, stops it with SIGTERM
Prints each check, then what it cannot check here. Exits 0 when every check passed, 1 otherwise.

Options:
  --keep      keep the temporary directory (the replayed build, the node's log) and print it
  -h, --help  this help

Needs /usr/bin/python3 with PyYAML (Debian python3-yaml) and dotnet (DOTNET to choose one).
EOF
}

KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --keep)
      KEEP=1
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      printf 'check: error: unknown argument %s\n' "$1" >&2
      exit 2
      ;;
  esac
done

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON=/usr/bin/python3
HELPER="$REPO_ROOT/deploy/check_deploy.py"
DOTNET="${DOTNET:-dotnet}"
FAILED=0
NODE_PID=""

say() { printf '%s\n' "$*"; }
fail() {
  printf '  FAIL  %s\n' "$*"
  FAILED=1
}
ok() { printf '  ok    %s\n' "$*"; }
indent() { sed 's/^/        /'; }

[[ -x "$PYTHON" ]] || {
  say "check: error: $PYTHON is missing (Debian package python3)" >&2
  exit 1
}
"$PYTHON" -c 'import yaml' 2>/dev/null || {
  say "check: error: PyYAML is missing for $PYTHON (Debian package python3-yaml)" >&2
  exit 1
}
command -v "$DOTNET" >/dev/null 2>&1 || {
  say "check: error: dotnet ($DOTNET) is not on PATH" >&2
  exit 1
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/streams-deploy-check.XXXXXX")"
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  if [[ -n "$NODE_PID" ]] && kill -0 "$NODE_PID" 2>/dev/null; then
    kill -KILL "$NODE_PID" 2>/dev/null || true
    wait "$NODE_PID" 2>/dev/null || true
  fi
  if [[ "$KEEP" == 1 ]]; then
    say "kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# No build servers outliving the check (they would hold its output open), no prompts.
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 UseSharedCompilation=false

# ---------------------------------------------------------------- 1. structure
say "== 1/3 structure of the Dockerfile, the compose file and the manifests"
"$PYTHON" "$HELPER" structure "$REPO_ROOT" || FAILED=1
if command -v shellcheck >/dev/null 2>&1; then
  if out="$(shellcheck -s sh "$REPO_ROOT/deploy/streams-init.sh" 2>&1)"; then
    ok "shellcheck deploy/streams-init.sh"
  else
    fail "shellcheck deploy/streams-init.sh"$'\n'"$out"
  fi
else
  say "  skip  shellcheck deploy/streams-init.sh (no shellcheck here)"
fi

# ---------------------------------------------------------------- 2. build replay
say "== 2/3 replay of the Dockerfile's build stage in $WORK/root"
ROOT="$WORK/root"
mkdir -p "$ROOT"
BUILT=0
start=$SECONDS
if "$PYTHON" "$HELPER" replay "$REPO_ROOT" "$ROOT" "$WORK/build.log"; then
  ok "the build stage's COPY and RUN lines, in order, succeeded ($((SECONDS - start)) s)"
  BUILT=1
else
  fail "the build stage failed on the copied files; from its log:"
  if [[ -f "$WORK/build.log" ]]; then
    if grep -qE ': error ' "$WORK/build.log"; then
      grep -E ': error ' "$WORK/build.log" | sort -u | head -n 10 | indent
    else
      tail -n 15 "$WORK/build.log" | indent
    fi
  fi
fi

APP=""
if [[ "$BUILT" == 1 ]]; then
  # The runtime stage's COPY --from=build sources, mapped under ROOT.
  mapfile -t SOURCES < <("$PYTHON" -c 'import json,sys; [print(c["source"]) for c in json.load(open(sys.argv[1]))["copies"]]' "$ROOT/image.json")
  APP="${SOURCES[0]:-}"
  for file in Streams.Server.dll Streams.Server.runtimeconfig.json cli/streams.dll cli/streams.runtimeconfig.json; do
    if [[ -n "$APP" && -f "$APP/$file" ]]; then
      ok "the published output (COPY --from=build ${APP#"$ROOT"}) holds $file"
    else
      fail "the published output (${APP:-no COPY --from=build}) has no $file"
      BUILT=0
    fi
  done
fi

# ---------------------------------------------------------------- 3. entrypoint
say "== 3/3 the image's entrypoint with compose's node-1 settings, as a one-node cluster on 127.0.0.1"
free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
http_status() {
  "$PYTHON" - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=3) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print(0)
PY
}

if [[ "$BUILT" != 1 ]]; then
  fail "not run: the build replay did not produce the image's files"
else
  GRPC_PORT="$(free_port)"
  HTTP_PORT="$(free_port)"
  while [[ "$HTTP_PORT" == "$GRPC_PORT" ]]; do HTTP_PORT="$(free_port)"; done
  "$PYTHON" "$HELPER" node1 "$REPO_ROOT" "$ROOT" "$GRPC_PORT" "$HTTP_PORT" "$WORK/node-1-data"
  mapfile -d '' -t NODE_ENV <"$ROOT/node1.env"
  mapfile -d '' -t NODE_ARGS <"$ROOT/node1.args"
  # The image's WORKDIR holds what COPY --from=build copied there: the published directory.
  # Only the image's environment, plus what dotnet needs on this machine.
  HOST_ENV=("PATH=$PATH" "HOME=${HOME:-/tmp}")
  [[ -z "${DOTNET_ROOT:-}" ]] || HOST_ENV+=("DOTNET_ROOT=$DOTNET_ROOT")
  if [[ "${NODE_ARGS[0]}" == dotnet ]]; then NODE_ARGS[0]="$DOTNET"; fi
  (cd "$APP" && exec env -i "${HOST_ENV[@]}" "${NODE_ENV[@]}" "${NODE_ARGS[@]}") >"$WORK/node-1.out" 2>"$WORK/node-1.log" &
  NODE_PID=$!

  healthy=0
  for _ in $(seq 1 120); do
    if ! kill -0 "$NODE_PID" 2>/dev/null; then
      break
    fi
    if [[ "$(http_status "http://127.0.0.1:$HTTP_PORT/healthz")" == 200 ]]; then
      healthy=1
      break
    fi
    sleep 0.5
  done
  if [[ "$healthy" == 1 ]]; then
    ok "GET /healthz answers 200 (node-1 from the published output, pid $NODE_PID)"
    if grep -q "^streams: listening grpc=http://127.0.0.1:$GRPC_PORT http=http://127.0.0.1:$HTTP_PORT" "$WORK/node-1.out"; then
      ok "it printed its listening line: $(head -n 1 "$WORK/node-1.out")"
    else
      fail "no listening line on stdout: $(head -n 3 "$WORK/node-1.out")"
    fi

    # The image's HEALTHCHECK command, pointed at this node's HTTP port.
    mapfile -t HC < <("$PYTHON" -c 'import json,sys; [print(w.replace(":7401/", ":" + sys.argv[2] + "/")) for w in (json.load(open(sys.argv[1]))["healthcheck"] or [])]' "$ROOT/image.json" "$HTTP_PORT")
    if [[ ${#HC[@]} -eq 0 ]]; then
      fail "the Dockerfile has no HEALTHCHECK CMD to run"
    elif ! command -v "${HC[0]}" >/dev/null 2>&1; then
      say "  skip  the HEALTHCHECK command (${HC[0]} is not installed here)"
    elif "${HC[@]}" >/dev/null 2>&1; then
      ok "the HEALTHCHECK command succeeds: ${HC[*]}"
    else
      fail "the HEALTHCHECK command fails: ${HC[*]}"
    fi

    ready=0
    for _ in $(seq 1 120); do
      if [[ "$(http_status "http://127.0.0.1:$HTTP_PORT/readyz")" == 200 ]]; then
        ready=1
        break
      fi
      sleep 0.5
    done
    if [[ "$ready" == 1 ]]; then
      ok "GET /readyz answers 200 (the one-node cluster formed)"
    else
      fail "GET /readyz did not answer 200 within 60 s"
    fi

    # Compose's one-shot setup, with the published CLI, against this node (the S3 endpoint is
    # only recorded: nothing is put, so nothing is uploaded).
    mapfile -d '' -t INIT_ENV < <("$PYTHON" -B - "$REPO_ROOT" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(sys.argv[1], "deploy"))
import check_deploy, yaml
with open(os.path.join(sys.argv[1], "deploy", "docker-compose.yml"), encoding="utf-8") as f:
    compose = check_deploy.interpolate(yaml.safe_load(f))
env = check_deploy.as_env(compose["services"]["streams-init"].get("environment"))
for key, value in sorted(env.items()):
    sys.stdout.write("%s=%s\0" % (key, value))
PY
    )
    for round in 1 2; do
      if out="$(env "${INIT_ENV[@]}" STREAMS_ENDPOINT="http://127.0.0.1:$GRPC_PORT" \
        STREAMS_CLI_DLL="$APP/cli/streams.dll" INIT_TIMEOUT=60 \
        sh "$REPO_ROOT/deploy/streams-init.sh" 2>&1)"; then
        ok "deploy/streams-init.sh (run $round) with the published CLI: $(tail -n 1 <<<"$out")"
      else
        fail "deploy/streams-init.sh (run $round) failed:"$'\n'"$(indent <<<"$out")"
      fi
    done

    kill -TERM "$NODE_PID"
    rc=0
    for _ in $(seq 1 80); do
      kill -0 "$NODE_PID" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$NODE_PID" 2>/dev/null; then
      fail "node-1 still ran 40 s after SIGTERM"
    else
      wait "$NODE_PID" || rc=$?
      NODE_PID=""
      if [[ "$rc" == 0 ]]; then ok "node-1 stopped on SIGTERM with exit code 0"; else fail "node-1 exited with code $rc after SIGTERM"; fi
    fi
  else
    rc=0
    if ! kill -0 "$NODE_PID" 2>/dev/null; then
      wait "$NODE_PID" || rc=$?
      NODE_PID=""
    fi
    fail "node-1 did not answer GET /healthz within 60 s (exit code $rc if it ended); its output:"
    sed 's/^/        /' "$WORK/node-1.out" | head -n 20
    tail -n 30 "$WORK/node-1.log" | indent
  fi
fi

# ---------------------------------------------------------------- what is left
say "== not checked here (no Docker engine, no Kubernetes cluster)"
say "  - docker build itself: the base images, apt-get install liblz4-1 curl in the runtime image,"
say "    the user \$APP_UID, file ownership of /data, the streams wrapper on PATH"
say "  - the HEALTHCHECK inside the container, container networking and service DNS (node-N)"
say "  - a three-node cluster forming over compose or the headless Service (the peers lists are"
say "    only checked for consistency; one node is started here)"
say "  - MinIO, minio/mc creating the bucket, and delivery into it"
say "  - kubectl apply: schema validation by the API server, PVC provisioning, probes, the PDB"
if [[ "$FAILED" == 0 ]]; then
  say "deploy check: OK"
else
  say "deploy check: FAILED"
fi
exit "$FAILED"
