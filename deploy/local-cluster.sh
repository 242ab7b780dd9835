#!/usr/bin/env bash
# A Streams cluster of node processes on this machine (127.0.0.1), for trying the API out and
# for tests. Run `deploy/local-cluster.sh --help` for the commands and options.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/local-cluster.sh start|stop|status [options] [-- node options...]

  start    build the server if needed, start every node that is not running, wait until each
           answers /readyz; prints each node's addresses
  stop     SIGTERM every node, wait for it to exit, SIGKILL one that outlives --stop-timeout
  status   each node's pid, ports and health, then `streams cluster status` when the CLI is
           built; exit 0 when every node is healthy, 3 when none runs, 1 otherwise

Options:
  --nodes N           nodes node-1..node-N (default 3)
  --base-port P       node-K listens for gRPC on P + 10*(K-1) and for HTTP on that + 1 (default 7400)
  --data DIR          where the cluster lives (default ./data/local-cluster of the repository):
                      DIR/node-K/data (the node's data), DIR/node-K/node.pid, DIR/node-K/node.log
  --timeout SECONDS   start: how long to wait for each node to be ready (default 60)
  --stop-timeout SECONDS
                      stop: how long to wait after SIGTERM before SIGKILL (default 30)
  --no-build          start: never build; fail if the server is not built
  -h, --help          this help
  -- ARGS             start: passed to every node, e.g. -- --Cluster:TickMilliseconds 10

The cluster's shape (nodes, base port) is recorded in DIR/cluster.env at the first start; later
commands on the same DIR use it unless told otherwise, and start refuses a different shape
(remove DIR, after stop, for a new cluster).

Environment:
  DOTNET              the dotnet host (default: dotnet on PATH)
  STREAMS_SERVER_DLL  run this Streams.Server.dll instead of building
                      src/Streams.Server/bin/Release/net10.0/Streams.Server.dll
  STREAMS_CLI_DLL     the CLI `status` runs (default: src/Streams.Cli/bin/{Release,Debug}/net10.0/streams.dll;
                      set but empty: none)
EOF
}

die() {
  printf 'local-cluster: error: %s\n' "$*" >&2
  exit 1
}
say() { printf '%s\n' "$*"; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# ---------------------------------------------------------------- arguments
COMMAND=""
NODES=""
BASE_PORT=""
DATA_DIR=""
READY_TIMEOUT=60
STOP_TIMEOUT=30
BUILD=1
NODE_ARGS=()

need_value() {
  [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (see --help)"
}
is_uint() { [[ "$1" =~ ^(0|[1-9][0-9]{0,8})$ ]]; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    start | stop | status)
      [[ -z "$COMMAND" ]] || die "one command at a time: got '$COMMAND' and '$1'"
      COMMAND="$1"
      shift
      ;;
    --nodes)
      need_value "$@"
      NODES="$2"
      shift 2
      ;;
    --nodes=*)
      NODES="${1#*=}"
      shift
      ;;
    --base-port)
      need_value "$@"
      BASE_PORT="$2"
      shift 2
      ;;
    --base-port=*)
      BASE_PORT="${1#*=}"
      shift
      ;;
    --data)
      need_value "$@"
      DATA_DIR="$2"
      shift 2
      ;;
    --data=*)
      DATA_DIR="${1#*=}"
      shift
      ;;
    --timeout)
      need_value "$@"
      READY_TIMEOUT="$2"
      shift 2
      ;;
    --stop-timeout)
      need_value "$@"
      STOP_TIMEOUT="$2"
      shift 2
      ;;
    --no-build)
      BUILD=0
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    --)
      shift
      NODE_ARGS=("$@")
      break
      ;;
    *)
      usage >&2
      die "unknown argument '$1'"
      ;;
  esac
done

[[ -n "$COMMAND" ]] || {
  usage >&2
  die "say start, stop or status"
}
if [[ ${#NODE_ARGS[@]} -gt 0 && "$COMMAND" != start ]]; then
  die "node options after -- are for start only"
fi
if ! is_uint "$READY_TIMEOUT" || ((READY_TIMEOUT == 0)); then
  die "--timeout '$READY_TIMEOUT' is not a positive number of seconds"
fi
if ! is_uint "$STOP_TIMEOUT" || ((STOP_TIMEOUT == 0)); then
  die "--stop-timeout '$STOP_TIMEOUT' is not a positive number of seconds"
fi

DATA_DIR="${DATA_DIR:-$REPO_ROOT/data/local-cluster}"
[[ "$DATA_DIR" == /* ]] || DATA_DIR="$PWD/$DATA_DIR"
DATA_DIR="${DATA_DIR%/}"
CLUSTER_ENV="$DATA_DIR/cluster.env"

# The recorded shape, if any, fills in what the command line left out; start refuses a change.
RECORDED_NODES=""
RECORDED_BASE_PORT=""
if [[ -f "$CLUSTER_ENV" ]]; then
  while IFS='=' read -r key value; do
    case "$key" in
      NODES) RECORDED_NODES="$value" ;;
      BASE_PORT) RECORDED_BASE_PORT="$value" ;;
    esac
  done <"$CLUSTER_ENV"
fi
if [[ -n "$RECORDED_NODES" && -n "$RECORDED_BASE_PORT" ]]; then
  if [[ "$COMMAND" == start && (-n "$NODES" && "$NODES" != "$RECORDED_NODES" || -n "$BASE_PORT" && "$BASE_PORT" != "$RECORDED_BASE_PORT") ]]; then
    die "$DATA_DIR holds a cluster of $RECORDED_NODES nodes on base port $RECORDED_BASE_PORT ($CLUSTER_ENV); start it with those, or stop it and remove $DATA_DIR for a new one"
  fi
  NODES="${NODES:-$RECORDED_NODES}"
  BASE_PORT="${BASE_PORT:-$RECORDED_BASE_PORT}"
fi
NODES="${NODES:-3}"
BASE_PORT="${BASE_PORT:-7400}"
if ! is_uint "$NODES" || ((NODES < 1 || NODES > 50)); then
  die "--nodes '$NODES' is not a number from 1 to 50"
fi
if ! is_uint "$BASE_PORT" || ((BASE_PORT < 1 || BASE_PORT + 10 * (NODES - 1) + 1 > 65535)); then
  die "--base-port '$BASE_PORT' is not a port that leaves room for $NODES nodes (up to base + $((10 * (NODES - 1) + 1)), at most 65535)"
fi

grpc_port() { echo $((BASE_PORT + 10 * ($1 - 1))); }
http_port() { echo $((BASE_PORT + 10 * ($1 - 1) + 1)); }
node_dir() { echo "$DATA_DIR/node-$1"; }
pid_file() { echo "$(node_dir "$1")/node.pid"; }
log_file() { echo "$(node_dir "$1")/node.log"; }

# ---------------------------------------------------------------- processes and probes
# The pid of node K if its pid file names a live process that is that node, else nothing.
node_pid() {
  local file pid args
  file="$(pid_file "$1")"
  [[ -f "$file" ]] || return 0
  pid="$(<"$file")"
  is_uint "$pid" || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  # Guard against a reused pid: the process must be a Streams node with this node's data dir.
  if [[ -r "/proc/$pid/cmdline" ]]; then
    args="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  elif command -v ps >/dev/null 2>&1; then
    args="$(ps -o args= -p "$pid" 2>/dev/null || true)"
  else
    args="$(node_dir "$1")/data"
  fi
  [[ "$args" == *"$(node_dir "$1")/data"* ]] || return 0
  echo "$pid"
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# GET http://127.0.0.1:$1$2; prints the status code (000 when nothing answers).
http_status() {
  local port="$1" path="$2" line
  if command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$port$path" 2>/dev/null || true
    return 0
  fi
  # shellcheck disable=SC2016 # expanded by the inner bash
  line="$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" "$1" >&3
    IFS= read -r line <&3 && printf "%s" "$line"' "$port" "$path" 2>/dev/null || true)"
  if [[ "$line" =~ ^HTTP/[0-9.]+\ ([0-9]{3}) ]]; then
    echo "${BASH_REMATCH[1]}"
  else
    echo 000
  fi
}

# The node's readiness: its /readyz answers 200; or, when nothing can probe HTTP (no curl and no
# /dev/tcp), the listening line it printed since log line $2.
node_ready() {
  local k="$1" from="$2" code
  code="$(http_status "$(http_port "$k")" /readyz)"
  [[ "$code" == 200 ]] && return 0
  [[ "$code" == 000 ]] && ! command -v curl >/dev/null 2>&1 && ! port_open "$(http_port "$k")" &&
    tail -n "+$from" "$(log_file "$k")" | grep -q '^streams: listening '
}

# ---------------------------------------------------------------- build
DOTNET="${DOTNET:-dotnet}"
SETSID=()
if command -v setsid >/dev/null 2>&1; then
  SETSID=(setsid)
fi
SERVER_DLL="${STREAMS_SERVER_DLL:-$REPO_ROOT/src/Streams.Server/bin/Release/net10.0/Streams.Server.dll}"

# What the server is built from: its project, the projects it references, the protos.
SERVER_SOURCES=()
for project in Streams.Server Streams.Rpc Streams.Storage Streams.Raft Streams.Client; do
  SERVER_SOURCES+=("$REPO_ROOT/src/$project")
done
SERVER_SOURCES+=("$REPO_ROOT/proto" "$REPO_ROOT/Directory.Build.props" "$REPO_ROOT/Directory.Packages.props")

ensure_built() {
  if [[ -n "${STREAMS_SERVER_DLL:-}" ]]; then
    [[ -f "$SERVER_DLL" ]] || die "STREAMS_SERVER_DLL is $SERVER_DLL, which does not exist"
    return 0
  fi
  local reason="" newest
  if [[ ! -f "$SERVER_DLL" ]]; then
    reason="not built yet"
  else
    # A build leaves Streams.Server.dll alone when only a project it uses changed (and that one's
    # public surface did not): the newest of the projects' assemblies beside it tells the build's time.
    newest="$(ls -t "$(dirname "$SERVER_DLL")"/Streams.*.dll | head -n 1)"
    if [[ -n "$(find "${SERVER_SOURCES[@]}" \( -path '*/bin' -o -path '*/obj' \) -prune -o \
      -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.proto' -o -name '*.json' \) -newer "$newest" -print -quit)" ]]; then
      reason="out of date: its sources changed since the last build"
    fi
  fi
  [[ -n "$reason" ]] || return 0
  ((BUILD)) || die "the server is $reason ($SERVER_DLL) and --no-build was given; run: dotnet build -c Release src/Streams.Server"
  command -v "$DOTNET" >/dev/null 2>&1 || die "'$DOTNET' not found: install the .NET SDK named in global.json, or set DOTNET"
  say "building the server (-c Release): $reason"
  local output
  if ! output="$(cd "$REPO_ROOT" && "$DOTNET" build -c Release src/Streams.Server -nologo -v q 2>&1)"; then
    printf '%s\n' "$output" >&2
    die "the build failed (output above)"
  fi
  [[ -f "$SERVER_DLL" ]] || die "the build succeeded but $SERVER_DLL is missing"
  # Up to date now, even when the build had nothing to write.
  touch "$SERVER_DLL"
}

# ---------------------------------------------------------------- commands
peers() {
  local k list=""
  for ((k = 1; k <= NODES; k++)); do
    list+="${list:+,}node-$k=http://127.0.0.1:$(grpc_port "$k")"
  done
  echo "$list"
}

cmd_start() {
  ensure_built
  command -v "$DOTNET" >/dev/null 2>&1 || die "'$DOTNET' not found: install the .NET SDK named in global.json, or set DOTNET"
  mkdir -p "$DATA_DIR"
  if [[ ! -f "$CLUSTER_ENV" ]]; then
    printf 'NODES=%s\nBASE_PORT=%s\n' "$NODES" "$BASE_PORT" >"$CLUSTER_ENV"
  fi

  local k pid started=() log_from=() all_peers
  all_peers="$(peers)"
  # Refuse to start anything when a port of a node to start is taken by another process.
  for ((k = 1; k <= NODES; k++)); do
    [[ -z "$(node_pid "$k")" ]] || continue
    for port in "$(grpc_port "$k")" "$(http_port "$k")"; do
      if port_open "$port"; then
        die "port $port (node-$k) is in use by another process; pick another --base-port or stop what listens there"
      fi
    done
  done

  for ((k = 1; k <= NODES; k++)); do
    pid="$(node_pid "$k")"
    if [[ -n "$pid" ]]; then
      say "node-$k already running (pid $pid)"
      continue
    fi
    mkdir -p "$(node_dir "$k")/data"
    rm -f "$(pid_file "$k")"
    printf '=== %s starting node-%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$k" >>"$(log_file "$k")"
    log_from[k]=$(($(wc -l <"$(log_file "$k")") + 1))
    # Detached from this shell: its own session (Ctrl-C here does not reach it), no terminal
    # input, its own log, immune to hangup. setsid execs in place, so $! is the node's pid.
    ${SETSID[@]+"${SETSID[@]}"} nohup "$DOTNET" "$SERVER_DLL" \
      --node-id "node-$k" \
      --grpc-port "$(grpc_port "$k")" \
      --http-port "$(http_port "$k")" \
      --data-dir "$(node_dir "$k")/data" \
      --peers "$all_peers" \
      ${NODE_ARGS[@]+"${NODE_ARGS[@]}"} \
      </dev/null >>"$(log_file "$k")" 2>&1 &
    echo $! >"$(pid_file "$k")"
    started+=("$k")
  done

  local deadline=$((SECONDS + READY_TIMEOUT)) waiting failed=()
  for k in ${started[@]+"${started[@]}"}; do
    waiting=1
    while ((waiting)); do
      pid="$(<"$(pid_file "$k")")"
      if ! kill -0 "$pid" 2>/dev/null; then
        failed+=("$k")
        printf 'local-cluster: node-%s (pid %s) exited during start; the end of %s:\n' "$k" "$pid" "$(log_file "$k")" >&2
        tail -n 20 "$(log_file "$k")" | sed 's/^/    /' >&2
        rm -f "$(pid_file "$k")"
        waiting=0
      elif node_ready "$k" "${log_from[k]}"; then
        waiting=0
      elif ((SECONDS >= deadline)); then
        failed+=("$k")
        printf 'local-cluster: node-%s (pid %s) not ready after %ss; the end of %s:\n' "$k" "$pid" "$READY_TIMEOUT" "$(log_file "$k")" >&2
        tail -n 20 "$(log_file "$k")" | sed 's/^/    /' >&2
        waiting=0
      else
        sleep 0.2
      fi
    done
  done
  if [[ ${#failed[@]} -gt 0 ]]; then
    die "${failed[*]/#/node-}: did not start (see above); fix and run start again, or stop the nodes that run with '$0 stop$DATA_ARG'"
  fi

  for ((k = 1; k <= NODES; k++)); do
    say "node-$k  pid $(node_pid "$k")  grpc http://127.0.0.1:$(grpc_port "$k")  http http://127.0.0.1:$(http_port "$k")"
  done
  say "cluster of $NODES nodes ready; data and logs in $DATA_DIR"
}

cmd_stop() {
  local k pid pids=() names=()
  for ((k = 1; k <= NODES; k++)); do
    pid="$(node_pid "$k")"
    if [[ -z "$pid" ]]; then
      [[ ! -f "$(pid_file "$k")" ]] || rm -f "$(pid_file "$k")"
      say "node-$k not running"
      continue
    fi
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
    names+=("$k")
  done

  local deadline=$((SECONDS + STOP_TIMEOUT)) i alive
  while :; do
    alive=0
    for i in "${!pids[@]}"; do
      kill -0 "${pids[$i]}" 2>/dev/null && alive=1
    done
    ((alive && SECONDS < deadline)) || break
    sleep 0.2
  done
  for i in "${!pids[@]}"; do
    k="${names[$i]}"
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      kill -KILL "${pids[$i]}" 2>/dev/null || true
      say "node-$k (pid ${pids[$i]}) still running ${STOP_TIMEOUT}s after SIGTERM: killed (SIGKILL)"
    else
      say "node-$k (pid ${pids[$i]}) stopped"
    fi
    rm -f "$(pid_file "$k")"
  done
  # Wait for killed processes to be gone (they are not our children: poll).
  deadline=$((SECONDS + 10))
  for i in "${!pids[@]}"; do
    while kill -0 "${pids[$i]}" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.1
    done
  done
}

# The CLI's streams.dll: STREAMS_CLI_DLL when set (empty: none), else a Release or Debug build.
find_cli() {
  local candidate
  if [[ -n "${STREAMS_CLI_DLL+set}" ]]; then
    [[ -z "$STREAMS_CLI_DLL" || ! -f "$STREAMS_CLI_DLL" ]] || echo "$STREAMS_CLI_DLL"
    return 0
  fi
  for candidate in "$REPO_ROOT/src/Streams.Cli/bin/Release/net10.0/streams.dll" "$REPO_ROOT/src/Streams.Cli/bin/Debug/net10.0/streams.dll"; do
    if [[ -n "$candidate" && -f "$candidate" ]]; then
      echo "$candidate"
      return 0
    fi
  done
}

cmd_status() {
  if [[ ! -d "$DATA_DIR" ]]; then
    say "no cluster in $DATA_DIR (never started)"
    return 3
  fi
  local k pid running=0 healthy=0 live ready state first=""
  printf '%-8s %-8s %-16s %-16s %-8s %-8s %s\n' NODE PID GRPC HTTP STATE HEALTHZ READYZ
  for ((k = 1; k <= NODES; k++)); do
    pid="$(node_pid "$k")"
    live="-"
    ready="-"
    if [[ -n "$pid" ]]; then
      state=running
      running=$((running + 1))
      live="$(http_status "$(http_port "$k")" /healthz)"
      ready="$(http_status "$(http_port "$k")" /readyz)"
      [[ "$live" == 200 ]] && live=ok || live="fail($live)"
      [[ "$ready" == 200 ]] && ready=ready || ready="no($ready)"
      if [[ "$live" == ok && "$ready" == ready ]]; then
        healthy=$((healthy + 1))
        first="${first:-$k}"
      fi
    elif [[ -f "$(pid_file "$k")" ]]; then
      state=dead
      pid="($(<"$(pid_file "$k")"))"
    else
      state=stopped
      pid="-"
    fi
    printf '%-8s %-8s %-16s %-16s %-8s %-8s %s\n' "node-$k" "$pid" "127.0.0.1:$(grpc_port "$k")" "127.0.0.1:$(http_port "$k")" "$state" "$live" "$ready"
  done
  say "$healthy of $NODES nodes healthy ($running running); data and logs in $DATA_DIR"

  local cli
  cli="$(find_cli)"
  if [[ -n "$first" && -n "$cli" ]] && command -v "$DOTNET" >/dev/null 2>&1; then
    say ""
    say "streams cluster status (via node-$first):"
    "$DOTNET" "$cli" --endpoint "http://127.0.0.1:$(grpc_port "$first")" --timeout 10s cluster status || say "(streams cluster status failed)"
  elif [[ -n "$first" && -z "${STREAMS_CLI_DLL+set}" ]]; then
    say "(build the CLI, dotnet build src/Streams.Cli, to see 'streams cluster status' here)"
  fi

  if ((healthy == NODES)); then
    return 0
  elif ((running == 0)); then
    return 3
  fi
  return 1
}

DATA_ARG=""
if [[ "$DATA_DIR" != "$REPO_ROOT/data/local-cluster" ]]; then
  DATA_ARG=" --data $DATA_DIR"
fi

case "$COMMAND" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status)
    rc=0
    cmd_status || rc=$?
    exit "$rc"
    ;;
esac
