#!/usr/bin/env bash
# Runs every client case of both peers against both servers (plain and --gzip): 8 combinations.
# Usage: tests/interop/selfcheck.sh   (run `npm ci` in tests/interop/node first)
set -u
here="$(cd "$(dirname "$0")" && pwd)"
py=(/usr/bin/python3 "$here/python/peer.py")
js=(node "$here/node/peer.js")
failed=0
run() { # run SERVER_NAME SERVER_FLAGS CLIENT_NAME
  local srv_name=$1 flags=$2 cli_name=$3 line port rc
  local -n srv=$srv_name cli=$cli_name
  coproc SRV { exec "${srv[@]}" server $flags 2>/dev/null; }
  local srv_pid=$SRV_PID
  read -r line <&"${SRV[0]}"
  port=${line#PORT }
  echo "--- ${cli_name} client -> ${srv_name} server ${flags}"
  "${cli[@]}" client --target "127.0.0.1:$port" --case all
  rc=$?
  eval "exec ${SRV[1]}>&-"   # stdin EOF stops the server
  wait "$srv_pid"
  [ "$rc" -eq 0 ] || failed=$((failed + 1))
}
for flags in "" "--gzip"; do
  for s in py js; do
    for c in py js; do run "$s" "$flags" "$c"; done
  done
done
echo "$((8 - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
