#!/usr/bin/env bash
# N "hosts" on this machine as network namespaces joined by a bridge, Streams nodes in them, and
# network faults between them. Run `deploy/netns/hosts.sh --help` for the commands.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/netns/hosts.sh [--name PREFIX] [--state DIR] COMMAND [args...]

Hosts PREFIX-1..N are network namespaces, each with eth0 at A.B.C.i, linked to the bridge
PREFIX-br in the root namespace, which has A.B.C.254, so the caller reaches every host directly.
A link is a veth pair, or (--link wire) two TAP devices joined by deploy/netns/wire.py. Needs
root and iproute2 (ip, tc); the wire needs python3 and /dev/net/tun.

Commands:
  create --hosts N [--subnet A.B.C.0/24] [--link veth|wire|auto]
                  make the namespaces, links and bridge (default subnet 10.77.0.0/24); fails,
                  touching nothing, when PREFIX's hosts exist or the subnet is in use.
                  --link: veth (delay/loss/reorder by the kernel's netem qdisc), wire (by a
                  user-space process per host), auto (default: veth when this kernel has netem,
                  else wire)
  run HOST -- COMMAND...
                  run COMMAND in HOST's namespace in the background, in its own session; its
                  output goes to STATE/hosts/I/run-K.log; prints "run-K pid P log FILE"
  start-node HOST --server DLL --data DIR [--timeout S] [NODE ARGS...]
                  start a Streams node in HOST: node-I on A.B.C.I:7400 (gRPC) and :7401 (HTTP),
                  --peers naming all N hosts, data in DIR, NODE ARGS appended (e.g.
                  --Cluster:TickMilliseconds 10); waits (default 60 s) for its line
                  "streams: listening grpc=... http=..."; output in STATE/hosts/I/node.log
  partition A,B C,D [E ...]
                  hosts of different groups no longer reach each other, both ways
  partition --one-way A B
                  A's packets to B are dropped; B's packets to A still arrive
  delay HOST MS [JITTER_MS]   delay on HOST's egress (0 removes it); netem or the wire
  loss HOST PERCENT           loss on HOST's egress (0 removes it)
  reorder HOST PERCENT        reorder on HOST's egress (needs a delay: 10 ms if none)
  pause HOST      SIGSTOP every process started in HOST (its node and `run` commands)
  resume HOST     SIGCONT them
  crash HOST      SIGKILL them and wait until they are gone
  restart HOST    start HOST's node again with the same arguments and data (SIGKILL first if
                  it still runs); waits for its listening line
  probe FROM TO [--port P] [--timeout S]
                  TCP connect from FROM (a host, or "root") to TO's address (port 7400, 2 s);
                  "refused" counts as reachable. Prints "reachable FROM -> TO rtt MS ms" and exits
                  0, or "unreachable ..." and exits 1. (No ping needed.)
  heal            remove every partition, delay, loss and reorder, resume paused processes
  status          hosts, their link, processes, faults
  destroy         kill every process in the hosts and the wires, delete namespaces, veths/TAPs,
                  bridge, state dir; also works without the state dir (after a crash) from
                  --name alone

HOST is I (1..N), node-I, PREFIX-I or A.B.C.I.

Options:
  --name PREFIX   namespace/interface prefix (default streams); with --hosts N it must leave
                  interface names within 15 characters (PREFIX-br, PREFIX-vN)
  --state DIR     where pids, logs, arguments and faults are kept
                  (default /tmp/streams-netns-PREFIX); every command reads it, so each works
                  from a fresh shell
  -h, --help      this help

How faults are made (iproute2 only, no iptables/nftables):
  partition  A's neighbour entry for B's address is replaced by a permanent one with an unused
             MAC (02:00:00:de:ad:01): A's frames to B are flooded by the bridge and dropped by
             every receiver, silently, as a lost link drops them (A's connections time out).
  netem      veth links: tc qdisc replace dev eth0 root netem ... inside the host (needs
             sch_netem in the kernel; without it these commands fail and say so).
  wire       wire links (the fallback where the kernel lacks netem): the host's eth0 is a TAP
             device, and deploy/netns/wire.py copies each frame between it and the TAP
             PREFIX-vI on the bridge. Frames the host sends are dropped (loss, independently),
             sent at once (reorder) or held delay ± jitter (uniform; jitter may reorder, as
             netem's does); frames to the host pass untouched. Settings in
             STATE/hosts/I/wire.conf, re-read on SIGHUP; log in STATE/hosts/I/wire.log. Cost:
             a user-space copy per frame: ~0.02 ms more RTT per wire crossed, ~100 MB/s.
  signals    kill -STOP/-CONT/-KILL to each started process group.

Environment: DOTNET, the dotnet host for start-node (default: dotnet on PATH); PYTHON, the
python3 that runs the wire (default /usr/bin/python3, else python3 on PATH).
EOF
}

die() {
  printf 'hosts.sh: error: %s\n' "$*" >&2
  exit 1
}
say() { printf '%s\n' "$*"; }
is_uint() { [[ "$1" =~ ^(0|[1-9][0-9]{0,8})$ ]]; }

PREFIX=""
STATE=""
COMMAND=""
ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --name)
      [[ $# -ge 2 && -n "$2" ]] || die "--name needs a value (see --help)"
      PREFIX="$2"
      shift 2
      ;;
    --state)
      [[ $# -ge 2 && -n "$2" ]] || die "--state needs a value (see --help)"
      STATE="$2"
      shift 2
      ;;
    -*)
      if [[ -z "$COMMAND" ]]; then
        usage >&2
        die "unknown option '$1' before the command"
      fi
      ARGS+=("$1")
      shift
      ;;
    *)
      if [[ -z "$COMMAND" ]]; then
        COMMAND="$1"
      else
        ARGS+=("$1")
      fi
      shift
      ;;
  esac
done
# Global options may also follow the command: pull --name/--state out of ARGS (not after --).
REST=()
i=0
while ((i < ${#ARGS[@]})); do
  case "${ARGS[i]}" in
    --)
      REST+=("${ARGS[@]:i}")
      break
      ;;
    --name | --state)
      ((i + 1 < ${#ARGS[@]})) || die "${ARGS[i]} needs a value (see --help)"
      [[ "${ARGS[i]}" == --name ]] && PREFIX="${ARGS[i + 1]}" || STATE="${ARGS[i + 1]}"
      i=$((i + 2))
      continue
      ;;
    -h | --help)
      usage
      exit 0
      ;;
  esac
  # start-node passes unknown options on to the node: stop looking after its own.
  REST+=("${ARGS[i]}")
  i=$((i + 1))
done
ARGS=(${REST[@]+"${REST[@]}"})

[[ -n "$COMMAND" ]] || {
  usage >&2
  die "say a command: create, run, start-node, partition, delay, loss, reorder, pause, resume, crash, restart, probe, heal, status or destroy"
}

# ---------------------------------------------------------------- prerequisites
[[ "$(id -u)" == 0 ]] || die "needs root (namespaces, veths, bridges): run with sudo"
command -v ip >/dev/null 2>&1 || die "ip: command not found: install iproute2 (apt-get install iproute2)"
need_tc() { command -v tc >/dev/null 2>&1 || die "tc: command not found: install iproute2 (apt-get install iproute2)"; }

# ---------------------------------------------------------------- state
if [[ -n "$STATE" && -z "$PREFIX" && -f "$STATE/env" ]]; then
  PREFIX="$(sed -n 's/^PREFIX=//p' "$STATE/env")"
fi
PREFIX="${PREFIX:-streams}"
[[ "$PREFIX" =~ ^[a-zA-Z][a-zA-Z0-9_]*(-[a-zA-Z0-9_]+)*$ ]] || die "--name '$PREFIX' must be letters, digits, _ and single dashes, starting with a letter"
STATE="${STATE:-/tmp/streams-netns-$PREFIX}"
[[ "$STATE" == /* ]] || STATE="$PWD/$STATE"
STATE="${STATE%/}"
BRIDGE="$PREFIX-br"
DEAD_MAC="02:00:00:de:ad:01"
WIRE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/wire.py"

HOSTS=""
NET=""
LINK=""
load_state() {
  [[ -f "$STATE/env" ]] || die "no hosts for '$PREFIX' ($STATE/env missing): run 'hosts.sh --name $PREFIX create --hosts N' first"
  HOSTS="$(sed -n 's/^HOSTS=//p' "$STATE/env")"
  NET="$(sed -n 's/^NET=//p' "$STATE/env")"
  # State from before --link knew veth only.
  LINK="$(sed -n 's/^LINK=//p' "$STATE/env")"
  LINK="${LINK:-veth}"
  local recorded
  recorded="$(sed -n 's/^PREFIX=//p' "$STATE/env")"
  [[ "$recorded" == "$PREFIX" ]] || die "$STATE belongs to '$recorded', not '$PREFIX'"
  if ! is_uint "$HOSTS" || [[ -z "$NET" ]] || [[ "$LINK" != veth && "$LINK" != wire ]]; then
    die "$STATE/env is damaged: run 'hosts.sh --name $PREFIX destroy' and create again"
  fi
}

ns() { echo "$PREFIX-$1"; }
addr() { echo "$NET.$1"; }
host_dir() { echo "$STATE/hosts/$1"; }

# HOST as I, node-I, PREFIX-I or NET.I -> I
host_index() {
  local h="$1" k=""
  if is_uint "$h"; then
    k="$h"
  elif [[ "$h" == node-* ]]; then
    k="${h#node-}"
  elif [[ "$h" == "$PREFIX"-* ]]; then
    k="${h#"$PREFIX"-}"
  elif [[ "$h" == "$NET".* ]]; then
    k="${h#"$NET".}"
  fi
  if ! is_uint "$k" || ((k < 1 || k > HOSTS)); then
    die "no host '$h': say 1..$HOSTS, node-I, $PREFIX-I or $NET.I"
  fi
  echo "$k"
}

# The pid recorded in FILE if it still runs (a zombie or a reused pid of another command is not).
live_pid() {
  local file="$1" pid stat
  [[ -f "$file" ]] || return 0
  pid="$(<"$file")"
  is_uint "$pid" || return 0
  [[ -r "/proc/$pid/stat" ]] || return 0
  stat="$(<"/proc/$pid/stat")"
  stat="${stat##*) }"
  [[ "${stat%% *}" != Z ]] || return 0
  if [[ -f "$file.start" ]]; then
    [[ "$(proc_start "$pid")" == "$(<"$file.start")" ]] || return 0
  fi
  echo "$pid"
}
# A process's start time in clock ticks (field 22 of /proc/PID/stat): tells a reused pid apart.
proc_start() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  stat="${stat##*) }"
  # Field 22 overall is the 20th after "pid (comm)".
  awk '{print $20}' <<<"$stat"
}
record_pid() {
  echo "$2" >"$1"
  proc_start "$2" >"$1.start"
}

# Every pid file of HOST (node first, then runs).
pid_files() {
  local d f
  d="$(host_dir "$1")"
  [[ -d "$d" ]] || return 0
  [[ ! -f "$d/node.pid" ]] || echo "$d/node.pid"
  for f in "$d"/run-*.pid; do
    [[ -f "$f" ]] && echo "$f"
  done
  return 0
}

# Sends SIG to the process group led by PID (each started process leads its own session), else PID.
signal() {
  local sig="$1" pid="$2"
  kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- links
# Whether this kernel has the netem qdisc: tried on the (new, still idle) bridge and removed again.
netem_available() {
  command -v tc >/dev/null 2>&1 || return 1
  tc qdisc add dev "$BRIDGE" root netem delay 1ms >/dev/null 2>&1 || return 1
  tc qdisc del dev "$BRIDGE" root >/dev/null 2>&1 || true
}

# The python3 that runs wire.py, or nothing.
find_python() {
  local py="${PYTHON:-}"
  if [[ -z "$py" ]]; then
    if [[ -x /usr/bin/python3 ]]; then
      py=/usr/bin/python3
    else
      py="$(command -v python3 || true)"
    fi
  fi
  [[ -z "$py" ]] || ! command -v "$py" >/dev/null 2>&1 || echo "$py"
}

# Why the wire cannot run here, or nothing when it can.
wire_unavailable() {
  [[ -f "$WIRE" ]] || {
    echo "$WIRE is missing"
    return 0
  }
  [[ -c /dev/net/tun ]] || {
    echo "/dev/net/tun is missing (TUN/TAP support: CONFIG_TUN, or mknod /dev/net/tun c 10 200)"
    return 0
  }
  [[ -n "$(find_python)" ]] || echo "python3 not found (set PYTHON, or apt-get install python3)"
}

# Starts host K's wire in the root namespace, in its own session; output to STATE/hosts/K/wire.log.
start_wire() {
  local k="$1" d py setsid=()
  d="$(host_dir "$k")"
  py="$(find_python)"
  command -v setsid >/dev/null 2>&1 && setsid=(setsid)
  printf '=== %s starting the wire of %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(ns "$k")" >>"$d/wire.log"
  ${setsid[@]+"${setsid[@]}"} "$py" "$WIRE" --netns "$(ns "$k")" --host-dev eth0 \
    --bridge-dev "$PREFIX-v$k" --conf "$d/wire.conf" </dev/null >>"$d/wire.log" 2>&1 &
  record_pid "$d/wire.pid" "$!"
}

# Waits (10 s at most) for host K's wire to say it forwards; says why not and fails otherwise.
wait_wire() {
  local k="$1" d deadline=$((SECONDS + 10))
  d="$(host_dir "$k")"
  until grep -q '^wire: ready ' "$d/wire.log" 2>/dev/null; do
    if [[ -z "$(live_pid "$d/wire.pid")" ]] || ((SECONDS >= deadline)); then
      printf 'hosts.sh: the wire of %s did not start; %s:\n' "$(ns "$k")" "$d/wire.log" >&2
      tail -n 20 "$d/wire.log" 2>/dev/null | sed 's/^/    /' >&2
      return 1
    fi
    sleep 0.02
  done
}

# Pids of every wire of PREFIX: recorded ones, and any whose command line names a PREFIX-vI TAP
# (so a lost state dir still finds them).
wire_pids() {
  local f pid p argv a found
  if [[ -d "$STATE/hosts" ]]; then
    for f in "$STATE"/hosts/*/wire.pid; do
      [[ -f "$f" ]] || continue
      pid="$(live_pid "$f")"
      [[ -z "$pid" ]] || echo "$pid"
    done
  fi
  for p in /proc/[0-9]*; do
    argv=()
    mapfile -d '' -t argv 2>/dev/null <"$p/cmdline" || continue
    [[ ${#argv[@]} -ge 2 ]] || continue
    found=0
    for a in "${argv[@]}"; do
      [[ "$a" != */wire.py ]] || found=$((found | 1))
      [[ ! "$a" =~ ^$PREFIX-v[0-9]+$ ]] || found=$((found | 2))
    done
    ((found != 3)) || echo "${p#/proc/}"
  done
  return 0
}

# Sets host K's wire to delay D ms ± J ms, L % loss, R % reorder and waits until it has read them.
set_wire() {
  local k="$1" d pid gen deadline=$((SECONDS + 5))
  d="$(host_dir "$k")"
  pid="$(live_pid "$d/wire.pid")"
  [[ -n "$pid" ]] || die "the wire of $(ns "$k") does not run (see $d/wire.log): its link is down; destroy and create the hosts again"
  gen="${EPOCHREALTIME/./}"
  printf 'gen=%s\ndelay_ms=%s\njitter_ms=%s\nloss_pct=%s\nreorder_pct=%s\n' "$gen" "$2" "$3" "$4" "$5" >"$d/wire.conf.new"
  mv -f "$d/wire.conf.new" "$d/wire.conf"
  kill -HUP "$pid"
  until grep -q "^wire: applied gen=$gen " "$d/wire.log"; do
    ((SECONDS < deadline)) || die "the wire of $(ns "$k") (pid $pid) did not take $d/wire.conf in 5 s; see $d/wire.log"
    sleep 0.01
  done
}

# Host K's wire and its settings: "wire delay 50ms 10ms loss 5% (pid P)", "wire - (pid P)" when
# it passes everything, "wire NOT RUNNING ..." when it is gone.
wire_status() {
  local k="$1" d pid delay_ms=0 jitter_ms=0 loss_pct=0 reorder_pct=0 key value out=""
  d="$(host_dir "$k")"
  pid="$(live_pid "$d/wire.pid")"
  if [[ -z "$pid" ]]; then
    echo "wire NOT RUNNING (see $d/wire.log)"
    return 0
  fi
  if [[ -f "$d/wire.conf" ]]; then
    while IFS='=' read -r key value; do
      case "$key" in
        delay_ms | jitter_ms | loss_pct | reorder_pct) printf -v "$key" '%s' "$value" ;;
      esac
    done <"$d/wire.conf"
  fi
  if [[ "$delay_ms" != 0 ]]; then
    out+=" delay ${delay_ms}ms"
    [[ "$jitter_ms" == 0 ]] || out+=" ${jitter_ms}ms"
  fi
  [[ "$loss_pct" == 0 ]] || out+=" loss ${loss_pct}%"
  [[ "$reorder_pct" == 0 ]] || out+=" reorder ${reorder_pct}%"
  echo "wire${out:- -} (pid $pid)"
}

# ---------------------------------------------------------------- create
cmd_create() {
  local subnet="10.77.0.0/24" n="" link=auto
  while [[ ${#ARGS[@]} -gt 0 ]]; do
    case "${ARGS[0]}" in
      --hosts)
        [[ ${#ARGS[@]} -ge 2 ]] || die "--hosts needs a value"
        n="${ARGS[1]}"
        ARGS=("${ARGS[@]:2}")
        ;;
      --subnet)
        [[ ${#ARGS[@]} -ge 2 ]] || die "--subnet needs a value"
        subnet="${ARGS[1]}"
        ARGS=("${ARGS[@]:2}")
        ;;
      --link)
        [[ ${#ARGS[@]} -ge 2 ]] || die "--link needs a value: veth, wire or auto"
        link="${ARGS[1]}"
        ARGS=("${ARGS[@]:2}")
        ;;
      *) die "create: unknown argument '${ARGS[0]}' (see --help)" ;;
    esac
  done
  [[ -n "$n" ]] || die "create needs --hosts N"
  if ! is_uint "$n" || ((n < 1 || n > 253)); then
    die "--hosts '$n' is not a number from 1 to 253"
  fi
  case "$link" in
    veth | auto) ;;
    wire)
      local why
      why="$(wire_unavailable)"
      [[ -z "$why" ]] || die "--link wire cannot run here: $why"
      ;;
    *) die "--link '$link' is not veth, wire or auto" ;;
  esac
  [[ "$subnet" =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.0/24$ ]] || die "--subnet '$subnet' must be a /24 written A.B.C.0/24 (host i gets A.B.C.i, this namespace A.B.C.254)"
  local o
  for o in "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}"; do
    ((10#$o <= 255)) || die "--subnet '$subnet' is not an IPv4 network"
  done
  NET="$((10#${BASH_REMATCH[1]})).$((10#${BASH_REMATCH[2]})).$((10#${BASH_REMATCH[3]}))"
  HOSTS="$n"
  local longest="$PREFIX-v$n"
  ((${#longest} <= 15)) || die "--name '$PREFIX' is too long for $n hosts: interface $longest is over 15 characters; use at most $((13 - ${#n})) characters"

  # Refuse, touching nothing, when anything of this prefix or subnet exists.
  [[ ! -e "$STATE/env" ]] || die "hosts '$PREFIX' already exist ($STATE): use them, or run 'hosts.sh --name $PREFIX destroy' first"
  local existing
  existing="$(ip netns list | awk '{print $1}' | grep -E "^$PREFIX-[0-9]+$" || true)"
  [[ -z "$existing" ]] || die "namespaces of '$PREFIX' exist ($(echo "$existing" | tr '\n' ' ')): run 'hosts.sh --name $PREFIX destroy' first, or pick another --name"
  ! ip link show "$BRIDGE" >/dev/null 2>&1 || die "interface $BRIDGE exists: run 'hosts.sh --name $PREFIX destroy' first, or pick another --name"
  local used
  used="$(ip -4 -o addr show | awk -v net="$NET." '{split($4, a, "/"); if (index(a[1], net) == 1) print $2 " " $4}' || true)"
  [[ -z "$used" ]] || die "subnet $NET.0/24 is in use here ($used): pick another --subnet"
  if ip -4 route show | awk '{print $1}' | grep -qE "^$NET\.0/24$"; then
    die "subnet $NET.0/24 is routed here already ($(ip -4 route show "$NET.0/24")): pick another --subnet"
  fi

  mkdir -p "$STATE/hosts"
  printf 'PREFIX=%s\nHOSTS=%s\nNET=%s\n' "$PREFIX" "$HOSTS" "$NET" >"$STATE/env"
  # A half-made set of hosts is taken down again.
  trap 'say "create failed: removing what was made" >&2; destroy_all >/dev/null 2>&1 || true' ERR

  ip link add "$BRIDGE" type bridge
  # No STP, no forwarding delay: ports forward at once.
  ip link set "$BRIDGE" type bridge stp_state 0 forward_delay 0 2>/dev/null || true
  ip addr add "$NET.254/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  local why_link=""
  if [[ "$link" == auto ]]; then
    if netem_available; then
      link=veth
      why_link="this kernel has netem"
    elif [[ -n "$(wire_unavailable)" ]]; then
      link=veth
      why_link="this kernel has no netem and the wire cannot run ($(wire_unavailable)): no delay, loss or reorder"
    else
      link=wire
      why_link="this kernel has no netem qdisc"
    fi
  fi
  LINK="$link"
  echo "LINK=$LINK" >>"$STATE/env"
  local k
  for ((k = 1; k <= n; k++)); do
    mkdir -p "$(host_dir "$k")"
    ip netns add "$(ns "$k")"
    ip -n "$(ns "$k")" link set lo up
    if [[ "$LINK" == wire ]]; then
      # Two persistent TAPs; the wire attaches to both and copies the frames between them.
      ip tuntap add dev "$PREFIX-t$k" mode tap
      ip link set "$PREFIX-t$k" netns "$(ns "$k")"
      ip -n "$(ns "$k")" link set "$PREFIX-t$k" name eth0
      ip -n "$(ns "$k")" link set eth0 mtu 1500
      ip tuntap add dev "$PREFIX-v$k" mode tap
      ip link set "$PREFIX-v$k" mtu 1500
    else
      ip link add "$PREFIX-v$k" type veth peer name "$PREFIX-p$k"
      ip link set "$PREFIX-p$k" netns "$(ns "$k")"
      ip -n "$(ns "$k")" link set "$PREFIX-p$k" name eth0
    fi
    ip -n "$(ns "$k")" addr add "$(addr "$k")/24" dev eth0
    ip -n "$(ns "$k")" link set eth0 up
    ip link set "$PREFIX-v$k" master "$BRIDGE"
    ip link set "$PREFIX-v$k" up
  done
  if [[ "$LINK" == wire ]]; then
    for ((k = 1; k <= n; k++)); do
      start_wire "$k"
    done
    for ((k = 1; k <= n; k++)); do
      if ! wait_wire "$k"; then
        trap - ERR
        say "create failed: removing what was made" >&2
        destroy_all >/dev/null 2>&1 || true
        die "the wire of $(ns "$k") did not start"
      fi
    done
  fi
  trap - ERR
  for ((k = 1; k <= n; k++)); do
    say "$(ns "$k")  $(addr "$k")"
  done
  if [[ "$LINK" == wire ]]; then
    say "links: wire (${why_link:-asked for}): eth0 is a TAP joined to $PREFIX-vI by deploy/netns/wire.py, pids in $STATE/hosts/I/wire.pid"
  else
    say "links: veth${why_link:+ ($why_link)}"
  fi
  say "$n hosts on bridge $BRIDGE ($NET.254 here); state in $STATE"
}

# ---------------------------------------------------------------- processes
# Starts "$@" in host K's namespace, in its own session, output appended to LOG; echoes the pid.
spawn() {
  local k="$1" log="$2"
  shift 2
  local setsid=()
  command -v setsid >/dev/null 2>&1 && setsid=(setsid)
  # setsid and `ip netns exec` both exec in place: $! is the command's own pid.
  ${setsid[@]+"${setsid[@]}"} ip netns exec "$(ns "$k")" "$@" </dev/null >>"$log" 2>&1 &
  echo $!
}

cmd_run() {
  load_state
  [[ ${#ARGS[@]} -ge 1 ]] || die "run needs HOST -- COMMAND..."
  local k
  k="$(host_index "${ARGS[0]}")"
  ARGS=("${ARGS[@]:1}")
  [[ ${#ARGS[@]} -ge 1 && "${ARGS[0]}" == -- ]] || die "run HOST -- COMMAND...: put -- before the command"
  ARGS=("${ARGS[@]:1}")
  [[ ${#ARGS[@]} -ge 1 ]] || die "run: no command after --"
  local d id=1 pid
  d="$(host_dir "$k")"
  while [[ -e "$d/run-$id.pid" ]]; do id=$((id + 1)); done
  printf '%q ' "${ARGS[@]}" >"$d/run-$id.cmd"
  pid="$(spawn "$k" "$d/run-$id.log" "${ARGS[@]}")"
  record_pid "$d/run-$id.pid" "$pid"
  say "run-$id pid $pid log $d/run-$id.log"
}

peers() {
  local k list=""
  for ((k = 1; k <= HOSTS; k++)); do
    list+="${list:+,}node-$k=http://$(addr "$k"):7400"
  done
  echo "$list"
}

# Starts host K's node from its recorded arguments and waits for its listening line.
launch_node() {
  local k="$1" timeout="$2" d dotnet log from pid args=()
  d="$(host_dir "$k")"
  log="$d/node.log"
  mapfile -d '' -t args <"$d/node.args"
  dotnet="${DOTNET:-dotnet}"
  command -v "$dotnet" >/dev/null 2>&1 || die "'$dotnet' not found: install the .NET SDK named in global.json, or set DOTNET"
  printf '=== %s starting node-%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$k" >>"$log"
  from=$(($(wc -l <"$log") + 1))
  pid="$(spawn "$k" "$log" "$dotnet" "${args[@]}")"
  record_pid "$d/node.pid" "$pid"
  rm -f "$d/paused"
  local deadline=$((SECONDS + timeout))
  while :; do
    if tail -n "+$from" "$log" | grep -q '^streams: listening '; then
      say "node-$k pid $pid $(tail -n "+$from" "$log" | grep -m1 '^streams: listening ')"
      return 0
    fi
    if [[ -z "$(live_pid "$d/node.pid")" ]]; then
      printf 'hosts.sh: node-%s (pid %s) exited during start; the end of %s:\n' "$k" "$pid" "$log" >&2
      tail -n 20 "$log" | sed 's/^/    /' >&2
      die "node-$k did not start"
    fi
    if ((SECONDS >= deadline)); then
      printf 'hosts.sh: node-%s (pid %s) printed no listening line in %ss; the end of %s:\n' "$k" "$pid" "$timeout" "$log" >&2
      tail -n 20 "$log" | sed 's/^/    /' >&2
      die "node-$k did not start in time (it still runs: 'hosts.sh --name $PREFIX crash $k' to stop it)"
    fi
    sleep 0.1
  done
}

cmd_start_node() {
  load_state
  [[ ${#ARGS[@]} -ge 1 ]] || die "start-node needs HOST --server DLL --data DIR"
  local k server="" data="" timeout=60 extra=()
  k="$(host_index "${ARGS[0]}")"
  ARGS=("${ARGS[@]:1}")
  while [[ ${#ARGS[@]} -gt 0 ]]; do
    case "${ARGS[0]}" in
      --server | --data | --timeout)
        [[ ${#ARGS[@]} -ge 2 ]] || die "${ARGS[0]} needs a value"
        case "${ARGS[0]}" in
          --server) server="${ARGS[1]}" ;;
          --data) data="${ARGS[1]}" ;;
          --timeout) timeout="${ARGS[1]}" ;;
        esac
        ARGS=("${ARGS[@]:2}")
        ;;
      --)
        ARGS=("${ARGS[@]:1}")
        extra+=(${ARGS[@]+"${ARGS[@]}"})
        ARGS=()
        ;;
      *)
        extra+=("${ARGS[0]}")
        ARGS=("${ARGS[@]:1}")
        ;;
    esac
  done
  [[ -n "$server" ]] || die "start-node needs --server PATH/Streams.Server.dll (build it: dotnet build -c Release src/Streams.Server)"
  [[ -f "$server" ]] || die "--server $server does not exist (build it: dotnet build -c Release src/Streams.Server)"
  [[ -n "$data" ]] || die "start-node needs --data DIR (the node's data directory)"
  if ! is_uint "$timeout" || ((timeout == 0)); then
    die "--timeout '$timeout' is not a positive number of seconds"
  fi
  [[ "$server" == /* ]] || server="$PWD/$server"
  [[ "$data" == /* ]] || data="$PWD/$data"
  local d pid
  d="$(host_dir "$k")"
  pid="$(live_pid "$d/node.pid")"
  [[ -z "$pid" ]] || die "node-$k already runs (pid $pid): 'crash' or 'restart' it"
  mkdir -p "$data"
  printf '%s\0' "$server" \
    --node-id "node-$k" --bind "$(addr "$k")" --grpc-port 7400 --http-port 7401 \
    --data-dir "$data" --peers "$(peers)" ${extra[@]+"${extra[@]}"} >"$d/node.args"
  launch_node "$k" "$timeout"
}

cmd_restart() {
  load_state
  [[ ${#ARGS[@]} -ge 1 ]] || die "restart needs HOST"
  local k timeout=60 d pid
  k="$(host_index "${ARGS[0]}")"
  if [[ ${#ARGS[@]} -ge 3 && "${ARGS[1]}" == --timeout ]]; then
    timeout="${ARGS[2]}"
    if ! is_uint "$timeout" || ((timeout == 0)); then
      die "--timeout '$timeout' is not a positive number of seconds"
    fi
  fi
  d="$(host_dir "$k")"
  [[ -f "$d/node.args" ]] || die "host $k never ran a node: use start-node"
  pid="$(live_pid "$d/node.pid")"
  if [[ -n "$pid" ]]; then
    say "node-$k still runs (pid $pid): SIGKILL first"
    kill_and_wait "$pid"
  fi
  launch_node "$k" "$timeout"
}

kill_and_wait() {
  local pid="$1" deadline=$((SECONDS + 10))
  signal KILL "$pid"
  while [[ -e "/proc/$pid" ]] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; do
    ((SECONDS < deadline)) || die "pid $pid survived SIGKILL for 10 s"
    sleep 0.05
  done
}

cmd_signal() {
  load_state
  [[ ${#ARGS[@]} -eq 1 ]] || die "$COMMAND needs HOST"
  local k f pid n=0 d
  k="$(host_index "${ARGS[0]}")"
  d="$(host_dir "$k")"
  while read -r f; do
    pid="$(live_pid "$f")"
    [[ -n "$pid" ]] || continue
    n=$((n + 1))
    case "$COMMAND" in
      pause) signal STOP "$pid" ;;
      resume) signal CONT "$pid" ;;
      crash) kill_and_wait "$pid" ;;
    esac
    say "$COMMAND $(basename "${f%.pid}") of $(ns "$k") (pid $pid)"
  done < <(pid_files "$k")
  case "$COMMAND" in
    pause) ((n == 0)) || touch "$d/paused" ;;
    *) rm -f "$d/paused" ;;
  esac
  ((n > 0)) || die "nothing runs in $(ns "$k") to $COMMAND"
}

# ---------------------------------------------------------------- network faults
# Drops A's IPv4 packets to B: A's neighbour entry for B points at a MAC nobody has.
drop_one_way() {
  local a="$1" b="$2"
  ip -n "$(ns "$a")" neigh replace "$(addr "$b")" lladdr "$DEAD_MAC" nud permanent dev eth0
  touch "$STATE/partitions"
  grep -qx "$a $b" "$STATE/partitions" || echo "$a $b" >>"$STATE/partitions"
}

cmd_partition() {
  load_state
  local groups=() one_way=0
  if [[ ${#ARGS[@]} -ge 1 && "${ARGS[0]}" == --one-way ]]; then
    one_way=1
    ARGS=("${ARGS[@]:1}")
    [[ ${#ARGS[@]} -eq 2 ]] || die "partition --one-way needs exactly A B (A's packets to B are dropped)"
  fi
  [[ ${#ARGS[@]} -ge 2 ]] || die "partition needs two or more groups, e.g. 'partition 1,2 3' (or --one-way A B)"
  local g h k idx
  for g in "${ARGS[@]}"; do
    idx=""
    IFS=',' read -r -a members <<<"$g"
    [[ ${#members[@]} -gt 0 ]] || die "empty group in partition"
    for h in "${members[@]}"; do
      k="$(host_index "$h")"
      idx+="${idx:+ }$k"
    done
    groups+=("$idx")
  done
  if ((one_way)); then
    [[ "${groups[0]}" != "${groups[1]}" ]] || die "a host cannot be partitioned from itself"
    drop_one_way "${groups[0]}" "${groups[1]}"
    say "partitioned one way: $(ns "${groups[0]}") -> $(ns "${groups[1]}") dropped"
    return 0
  fi
  local i j a b seen=" "
  for g in "${groups[@]}"; do
    for a in $g; do
      [[ "$seen" != *" $a "* ]] || die "host $a is in two groups"
      seen+="$a "
    done
  done
  for ((i = 0; i < ${#groups[@]}; i++)); do
    for ((j = 0; j < ${#groups[@]}; j++)); do
      ((i != j)) || continue
      for a in ${groups[i]}; do
        for b in ${groups[j]}; do
          drop_one_way "$a" "$b"
        done
      done
    done
  done
  say "partitioned: $(printf '{%s} ' "${groups[@]}")"
}

# Applies host K's recorded settings (STATE/hosts/K/netem) to its eth0's egress: a netem qdisc
# on a veth link, the wire's settings on a wire link.
apply_netem() {
  local k="$1" f delay=0 jitter=0 loss=0 reorder=0 spec=() out
  f="$(host_dir "$k")/netem"
  # shellcheck disable=SC1090 # our own key=value file
  [[ ! -f "$f" ]] || source "$f"
  if ((delay == 0 && loss == 0 && reorder == 0)); then
    if [[ "$LINK" == wire ]]; then
      set_wire "$k" 0 0 0 0
    else
      ip netns exec "$(ns "$k")" tc qdisc del dev eth0 root 2>/dev/null || true
    fi
    rm -f "$f"
    return 0
  fi
  local d=0
  if ((delay > 0 || reorder > 0)); then
    d=$delay
    ((d > 0)) || d=10
    spec+=(delay "${d}ms")
    ((jitter == 0)) || spec+=("${jitter}ms")
  fi
  ((loss == 0)) || spec+=(loss "${loss}%")
  ((reorder == 0)) || spec+=(reorder "${reorder}%")
  if [[ "$LINK" == wire ]]; then
    ((d > 0)) || jitter=0
    set_wire "$k" "$d" "$jitter" "$loss" "$reorder"
    say "$(ns "$k") eth0 egress: wire ${spec[*]}"
    return 0
  fi
  if ! out="$(ip netns exec "$(ns "$k")" tc qdisc replace dev eth0 root netem "${spec[@]}" 2>&1)"; then
    if [[ "$out" == *"unknown"* || "$out" == *"not found"* ]]; then
      die "this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM / module sch_netem; tc said: ${out//$'\n'/ }): delay, loss and reorder are unavailable on these veth links; create the hosts with --link wire (or the default --link auto) for a user-space wire that does them, or try 'modprobe sch_netem' or a kernel built with it"
    fi
    die "tc qdisc replace dev eth0 root netem ${spec[*]} in $(ns "$k") failed: $out"
  fi
  say "$(ns "$k") eth0 egress: netem ${spec[*]}"
}

cmd_netem() {
  load_state
  [[ "$LINK" == wire ]] || need_tc
  local k value jitter=0 f
  case "$COMMAND" in
    delay) [[ ${#ARGS[@]} -ge 2 && ${#ARGS[@]} -le 3 ]] || die "delay needs HOST MS [JITTER_MS]" ;;
    *) [[ ${#ARGS[@]} -eq 2 ]] || die "$COMMAND needs HOST PERCENT" ;;
  esac
  k="$(host_index "${ARGS[0]}")"
  value="${ARGS[1]}"
  is_uint "$value" || die "$COMMAND: '$value' is not a whole number"
  if [[ "$COMMAND" == delay ]]; then
    jitter="${ARGS[2]:-0}"
    is_uint "$jitter" || die "delay: jitter '$jitter' is not a whole number of milliseconds"
  else
    ((value <= 100)) || die "$COMMAND: '$value' is over 100 percent"
  fi
  f="$(host_dir "$k")/netem"
  local delay=0 loss=0 reorder=0 new_jitter="$jitter"
  jitter=0
  # shellcheck disable=SC1090 # our own key=value file
  [[ ! -f "$f" ]] || source "$f"
  case "$COMMAND" in
    delay)
      delay="$value"
      jitter="$new_jitter"
      ;;
    loss) loss="$value" ;;
    reorder) reorder="$value" ;;
  esac
  # Applied from the new file; the old one comes back when tc refuses.
  [[ ! -f "$f" ]] || cp "$f" "$f.old"
  printf 'delay=%s\njitter=%s\nloss=%s\nreorder=%s\n' "$delay" "$jitter" "$loss" "$reorder" >"$f"
  if ! (apply_netem "$k"); then
    if [[ -f "$f.old" ]]; then mv "$f.old" "$f"; else rm -f "$f"; fi
    exit 1
  fi
  rm -f "$f.old"
  if [[ ! -f "$f" ]]; then
    if [[ "$LINK" == wire ]]; then
      say "$(ns "$k") eth0 egress: wire passes every frame at once (no delay, loss or reorder)"
    else
      say "$(ns "$k") eth0 egress: no netem"
    fi
  fi
}

cmd_heal() {
  load_state
  local a b k d
  if [[ -f "$STATE/partitions" ]]; then
    while read -r a b; do
      ip -n "$(ns "$a")" neigh del "$(addr "$b")" dev eth0 2>/dev/null || true
    done <"$STATE/partitions"
    rm -f "$STATE/partitions"
  fi
  for ((k = 1; k <= HOSTS; k++)); do
    d="$(host_dir "$k")"
    if [[ "$LINK" == wire ]]; then
      if [[ -f "$d/netem" || -f "$d/wire.conf" ]]; then
        set_wire "$k" 0 0 0 0
        rm -f "$d/netem" "$d/wire.conf"
      fi
    elif [[ -f "$d/netem" ]]; then
      ip netns exec "$(ns "$k")" tc qdisc del dev eth0 root 2>/dev/null || true
      rm -f "$d/netem"
    fi
    if [[ -f "$d/paused" ]]; then
      while read -r f; do
        pid="$(live_pid "$f")"
        [[ -z "$pid" ]] || signal CONT "$pid"
      done < <(pid_files "$k")
      rm -f "$d/paused"
    fi
  done
  say "healed: no partitions, no delay/loss/reorder ($([[ "$LINK" == wire ]] && echo wire || echo netem)), nothing paused"
}

# ---------------------------------------------------------------- probe
cmd_probe() {
  load_state
  [[ ${#ARGS[@]} -ge 2 ]] || die "probe needs FROM TO (FROM may be root)"
  local from="${ARGS[0]}" to port=7400 timeout=2 exec_in=()
  if [[ "$from" != root ]]; then
    from="$(host_index "$from")"
    exec_in=(ip netns exec "$(ns "$from")")
    from="$(ns "$from")"
  fi
  to="$(host_index "${ARGS[1]}")"
  ARGS=("${ARGS[@]:2}")
  while [[ ${#ARGS[@]} -gt 0 ]]; do
    case "${ARGS[0]}" in
      --port) port="${ARGS[1]:-}" ;;
      --timeout) timeout="${ARGS[1]:-}" ;;
      *) die "probe: unknown argument '${ARGS[0]}'" ;;
    esac
    ARGS=("${ARGS[@]:2}")
  done
  if ! is_uint "$port" || ((port == 0 || port > 65535)); then
    die "probe: --port '$port' is not a port"
  fi
  if ! is_uint "$timeout" || ((timeout == 0)); then
    die "probe: --timeout '$timeout' is not a positive number of seconds"
  fi
  local out rc=0
  # shellcheck disable=SC2016 # expanded by the inner bash
  out="$(${exec_in[@]+"${exec_in[@]}"} timeout "$timeout" bash -c '
    t0=$EPOCHREALTIME
    err="$( { exec 3<>"/dev/tcp/$0/$1"; } 2>&1 )" && result=open || result="$err"
    t1=$EPOCHREALTIME
    printf "%s|%s|%s\n" "${t0/./}" "${t1/./}" "${result//$'"'\n'"'/ }"' "$(addr "$to")" "$port" 2>&1)" || rc=$?
  local t0 t1 result
  IFS='|' read -r t0 t1 result <<<"$out"
  if ((rc == 124)); then
    say "unreachable $from -> $(ns "$to") ($(addr "$to"):$port): no answer in ${timeout}s"
    return 1
  fi
  if [[ "$result" == open || "$result" == *"Connection refused"* ]]; then
    local us=$((t1 - t0))
    say "reachable $from -> $(ns "$to") ($(addr "$to"):$port) rtt $((us / 1000)).$(printf '%03d' $((us % 1000))) ms"
    return 0
  fi
  say "unreachable $from -> $(ns "$to") ($(addr "$to"):$port): ${result:-$out}"
  return 1
}

# ---------------------------------------------------------------- status and destroy
cmd_status() {
  load_state
  say "hosts '$PREFIX': $HOSTS on bridge $BRIDGE, $NET.0/24 ($NET.254 here); links $LINK; state in $STATE"
  printf '%-16s %-14s %-8s %-10s %s\n' HOST ADDRESS NODE STATE EGRESS
  local k d pid state netem f runs
  for ((k = 1; k <= HOSTS; k++)); do
    d="$(host_dir "$k")"
    pid="$(live_pid "$d/node.pid")"
    if [[ -n "$pid" ]]; then
      state=running
      grep -q '^State:.*T' "/proc/$pid/status" 2>/dev/null && state=paused
    elif [[ -f "$d/node.pid" ]]; then
      state=dead
      pid="($(<"$d/node.pid"))"
    else
      state=-
      pid=-
    fi
    netem="-"
    if ip netns list | awk '{print $1}' | grep -qx "$(ns "$k")"; then
      if [[ "$LINK" == wire ]]; then
        netem="$(wire_status "$k")"
      else
        netem="$(ip netns exec "$(ns "$k")" tc qdisc show dev eth0 root 2>/dev/null | grep -o 'netem.*' || echo -)"
      fi
    else
      state="NO-NAMESPACE"
    fi
    printf '%-16s %-14s %-8s %-10s %s\n' "$(ns "$k")" "$(addr "$k")" "$pid" "$state" "$netem"
    runs=0
    for f in "$d"/run-*.pid; do
      [[ -f "$f" ]] || continue
      runs=1
      pid="$(live_pid "$f")"
      say "    $(basename "${f%.pid}") pid $(<"$f") $([[ -n "$pid" ]] && echo running || echo exited): $(cat "${f%.pid}.cmd" 2>/dev/null)"
    done
    : "$runs"
  done
  if [[ -s "$STATE/partitions" ]]; then
    say "dropped (from -> to):"
    local a b
    while read -r a b; do
      say "    $(ns "$a") -> $(ns "$b")"
    done <"$STATE/partitions"
  else
    say "no partitions"
  fi
}

# Everything of PREFIX goes: with the state dir when there is one, from names when not.
destroy_all() {
  local k names=() name pid wires=()
  # The wires first (SIGTERM: they exit at once; SIGKILL after 3 s): they hold the TAPs.
  mapfile -t wires < <(wire_pids | sort -u)
  for pid in ${wires[@]+"${wires[@]}"}; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  local deadline=$((SECONDS + 3))
  for pid in ${wires[@]+"${wires[@]}"}; do
    while [[ -e "/proc/$pid" ]] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; do
      if ((SECONDS >= deadline + 5)); then
        say "wire pid $pid survived SIGKILL" >&2
        break
      fi
      ((SECONDS < deadline)) || kill -KILL "$pid" 2>/dev/null || true
      sleep 0.02
    done
  done
  mapfile -t names < <(ip netns list | awk '{print $1}' | grep -E "^$PREFIX-[0-9]+$" || true)
  # Every process in the namespaces (ours or not), and every pid we recorded.
  for name in ${names[@]+"${names[@]}"}; do
    for pid in $(ip netns pids "$name" 2>/dev/null || true); do
      kill -KILL "$pid" 2>/dev/null || true
    done
  done
  if [[ -d "$STATE/hosts" ]]; then
    for f in "$STATE"/hosts/*/*.pid; do
      [[ -f "$f" ]] || continue
      pid="$(live_pid "$f")"
      [[ -z "$pid" ]] || signal KILL "$pid"
    done
  fi
  deadline=$((SECONDS + 10))
  for name in ${names[@]+"${names[@]}"}; do
    while [[ -n "$(ip netns pids "$name" 2>/dev/null || true)" ]] && ((SECONDS < deadline)); do
      sleep 0.05
    done
    ip netns del "$name" 2>/dev/null || say "could not delete namespace $name" >&2
  done
  # The root ends of the veths go with their peers, a host's TAP with its namespace; the bridge's
  # TAPs (PREFIX-vI), anything left over (PREFIX-pI, PREFIX-tI before its move) and the bridge here.
  for name in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^$PREFIX-[vpt][0-9]+$" || true); do
    ip link del "$name" 2>/dev/null || true
  done
  ! ip link show "$BRIDGE" >/dev/null 2>&1 || ip link del "$BRIDGE"
  case "$STATE" in
    / | "") ;;
    *) rm -rf "$STATE" ;;
  esac
  say "destroyed '$PREFIX': ${#names[@]} namespace(s), ${#wires[@]} wire(s), bridge $BRIDGE, state $STATE"
}

case "$COMMAND" in
  create) cmd_create ;;
  run) cmd_run ;;
  start-node) cmd_start_node ;;
  restart) cmd_restart ;;
  pause | resume | crash) cmd_signal ;;
  partition) cmd_partition ;;
  delay | loss | reorder) cmd_netem ;;
  heal) cmd_heal ;;
  probe) cmd_probe ;;
  status) cmd_status ;;
  destroy)
    [[ ${#ARGS[@]} -eq 0 ]] || die "destroy takes no arguments"
    destroy_all
    ;;
  *)
    usage >&2
    die "unknown command '$COMMAND'"
    ;;
esac
