#!/usr/bin/env bash
# The Streams test command: installs test dependencies, builds once, runs every test project,
# and summarises the results of all of them. Run `scripts/test.sh --help` for the options.
set -euo pipefail

# Debian packages the tests need (interop peers, protoc). Extend this list as suites grow.
APT_PACKAGES=(
  python3-grpcio
  python3-protobuf
  protobuf-compiler
  python3-grpc-tools
  python3-prometheus-client
  awscli
  python3-boto3
  python3-yaml
  iproute2
  nats-server
)

SOLUTION_CANDIDATES=(Streams.sln Streams.slnx)
CONFIGURATION=Release
NODE_INTEROP_DIR=tests/interop/node
RESULTS_ROOT=artifacts/test-results
# Per-test hang guard: a test running longer than this kills its test host (the project then
# counts as failed) instead of eating the CI time budget. Override with STREAMS_TEST_HANG_TIMEOUT.
HANG_TIMEOUT_DEFAULT=15m
HANG_TIMEOUT_LONG=45m

usage() {
  cat <<EOF
Usage: scripts/test.sh [--filter EXPR] [--long] [--no-install] [-h|--help]

Installs missing test dependencies, builds the solution once (-c $CONFIGURATION), runs every
test project tests/*/*.Tests.csproj one after another (all of them, even after a failure),
and prints per-project counts, the failed tests, and a final line "N passed, N failed, N skipped".
Exits non-zero if any test failed, any project failed to run, or no test ran at all.

Options:
  --filter EXPR   passed to 'dotnet test --filter' for every project
                  (e.g. --filter "FullyQualifiedName~Storage")
  --long          also run long soak/fault suites: sets STREAMS_LONG_TESTS=1, which those
                  suites read; raises the per-test hang timeout to $HANG_TIMEOUT_LONG
  --no-install    do not install anything (no apt-get, no npm ci)
  -h, --help      show this help

Installs (unless --no-install):
  Debian packages: ${APT_PACKAGES[*]}
    (checked with dpkg first; 'apt-get update' runs only if something is missing; needs root
    or sudo)
  npm ci in $NODE_INTEROP_DIR when node_modules is missing or older than package-lock.json
    (the Node gRPC interop peer, and s3rver, the S3-compatible server of the Firehose tests)

Environment:
  CI=true                     non-interactive (also fine without it)
  STREAMS_LONG_TESTS=1        same as --long
  STREAMS_TEST_HANG_TIMEOUT   per-test hang timeout (default $HANG_TIMEOUT_DEFAULT, e.g. 30m)
Exported to the tests:
  STREAMS_LONG_TESTS          1 with --long
  STREAMS_PYTHON              a python3 that sees the Debian python3-grpcio packages
                              (/usr/bin/python3 when present; a pyenv python3 on PATH may not)
  STREAMS_REPO_ROOT           absolute path of the repository

Results: TRX files under $RESULTS_ROOT/<project>/.
EOF
}

log() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- arguments
FILTER=""
LONG="${STREAMS_LONG_TESTS:-0}"
INSTALL=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --filter)
      [[ $# -ge 2 ]] || die "--filter needs an expression"
      FILTER="$2"
      shift 2
      ;;
    --filter=*)
      FILTER="${1#--filter=}"
      shift
      ;;
    --long)
      LONG=1
      shift
      ;;
    --no-install)
      INSTALL=0
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      die "unknown argument: $1"
      ;;
  esac
done

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

export STREAMS_REPO_ROOT="$REPO_ROOT"
export DOTNET_NOLOGO=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export NUGET_XMLDOC_MODE=skip
if [[ "$LONG" == "1" ]]; then
  export STREAMS_LONG_TESTS=1
  HANG_TIMEOUT="${STREAMS_TEST_HANG_TIMEOUT:-$HANG_TIMEOUT_LONG}"
else
  HANG_TIMEOUT="${STREAMS_TEST_HANG_TIMEOUT:-$HANG_TIMEOUT_DEFAULT}"
fi

# A python3 that can import the Debian python3-grpcio packages (a pyenv shim on PATH cannot).
if [[ -x /usr/bin/python3 ]]; then
  PYTHON=/usr/bin/python3
elif command -v python3 >/dev/null 2>&1; then
  PYTHON="$(command -v python3)"
else
  die "python3 is required (Debian package python3)"
fi
export STREAMS_PYTHON="${STREAMS_PYTHON:-$PYTHON}"

# CI: no build servers left running after the script ends, no interactive prompts.
BUILD_SERVER_ARGS=()
if [[ "${CI:-}" == "true" ]]; then
  BUILD_SERVER_ARGS=(--disable-build-servers)
fi

# ---------------------------------------------------------------- installs
apt_missing() {
  local pkg status
  for pkg in "${APT_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
      printf '%s\n' "$pkg"
    fi
  done
}

install_apt_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    warn "dpkg not found: cannot check Debian packages (${APT_PACKAGES[*]}); continuing"
    return 0
  fi
  local missing
  mapfile -t missing < <(apt_missing)
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "Debian packages present: ${APT_PACKAGES[*]}"
    return 0
  fi
  log "Installing Debian packages: ${missing[*]}"
  local sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      # No password prompt under CI.
      if [[ "${CI:-}" == "true" ]]; then sudo=(sudo -n); else sudo=(sudo); fi
    else
      die "not root and no sudo: install these Debian packages first: ${missing[*]} (or rerun with --no-install)"
    fi
  fi
  local apt_opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update -q \
    || die "apt-get update failed; needed packages: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -q \
    --no-install-recommends "${missing[@]}" \
    || die "apt-get install failed for: ${missing[*]}"
}

install_node_modules() {
  local dir="$NODE_INTEROP_DIR"
  if [[ ! -f "$dir/package.json" ]]; then
    log "note: no $dir/package.json yet; skipping npm ci"
    return 0
  fi
  command -v node >/dev/null 2>&1 || die "node is required for $dir (Node.js >= 18 with npm)"
  command -v npm >/dev/null 2>&1 || die "npm is required for $dir (install npm alongside node)"
  [[ -f "$dir/package-lock.json" ]] \
    || die "$dir/package-lock.json is missing: run 'npm install' there and commit the lock file"
  # npm writes node_modules/.package-lock.json on every install; fall back to the folder itself.
  local marker="$dir/node_modules/.package-lock.json"
  [[ -e "$marker" ]] || marker="$dir/node_modules"
  if [[ -e "$marker" && ! "$dir/package-lock.json" -nt "$marker" ]]; then
    log "node_modules up to date in $dir"
    return 0
  fi
  log "npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=warn) || die "npm ci failed in $dir"
}

if [[ "$INSTALL" == "1" ]]; then
  install_apt_packages
  install_node_modules
else
  log "--no-install: skipping Debian packages and npm ci"
fi

# ---------------------------------------------------------------- build
command -v dotnet >/dev/null 2>&1 || die "dotnet (the .NET SDK, see global.json) is not on PATH"

SOLUTION=""
for candidate in "${SOLUTION_CANDIDATES[@]}"; do
  if [[ -f "$candidate" ]]; then
    SOLUTION="$candidate"
    break
  fi
done
[[ -n "$SOLUTION" ]] || die "no solution file found (looked for ${SOLUTION_CANDIDATES[*]})"

PROJECTS=()
shopt -s nullglob
for proj in tests/*/*.csproj; do
  name="$(basename "$proj" .csproj)"
  if [[ "$name" == *.Tests ]]; then
    PROJECTS+=("$proj")
  fi
done
shopt -u nullglob

log "dotnet build $SOLUTION -c $CONFIGURATION"
dotnet build "$SOLUTION" -c "$CONFIGURATION" -nologo "${BUILD_SERVER_ARGS[@]}" \
  || die "build failed (dotnet build $SOLUTION -c $CONFIGURATION); no tests were run"

# A test project missing from the solution would fail under --no-build: build it on its own.
BUILD_FAILED=" "
if [[ ${#PROJECTS[@]} -gt 0 ]]; then
  # shellcheck disable=SC1003 # tr gets a backslash
  sln_list="$(dotnet sln "$SOLUTION" list 2>/dev/null | tr '\\' '/' || true)"
  for proj in "${PROJECTS[@]}"; do
    if ! grep -qxF "$proj" <<<"$sln_list"; then
      warn "$proj is not in $SOLUTION; building it separately (add it: dotnet sln add $proj)"
      dotnet build "$proj" -c "$CONFIGURATION" -nologo "${BUILD_SERVER_ARGS[@]}" \
        || { warn "build failed for $proj; it counts as a failed project"; BUILD_FAILED+="$proj "; }
    fi
  done
fi

# ---------------------------------------------------------------- test
if [[ ${#PROJECTS[@]} -eq 0 ]]; then
  log "no test projects found (tests/*/*.Tests.csproj)"
fi

STATUS_FILE="$(mktemp)"
trap 'rm -f "$STATUS_FILE"' EXIT

for proj in "${PROJECTS[@]}"; do
  name="$(basename "$proj" .csproj)"
  results="$RESULTS_ROOT/$name"
  rm -rf "$results"
  mkdir -p "$results"
  if [[ "$BUILD_FAILED" == *" $proj "* ]]; then
    # Do not run stale binaries of a project whose build failed.
    printf '%s\t%s\t%s\n' "$name" build-failed "$results" >>"$STATUS_FILE"
    continue
  fi
  args=(test "$proj" --no-build -c "$CONFIGURATION" -nologo
    --results-directory "$results"
    --logger "trx;LogFileName=$name.trx"
    --logger "console;verbosity=minimal"
    --blame-hang-timeout "$HANG_TIMEOUT" --blame-hang-dump-type none
    "${BUILD_SERVER_ARGS[@]}")
  if [[ -n "$FILTER" ]]; then
    args+=(--filter "$FILTER")
  fi
  log "dotnet test $proj${FILTER:+ --filter $FILTER}"
  start=$SECONDS
  rc=0
  dotnet "${args[@]}" || rc=$?
  log "$name: exit code $rc after $((SECONDS - start))s"
  printf '%s\t%s\t%s\n' "$name" "$rc" "$results" >>"$STATUS_FILE"
done

# ---------------------------------------------------------------- summary
# Reads the TRX files of every project; the last line printed is "N passed, N failed, N skipped".
summary_rc=0
HANG_TIMEOUT="$HANG_TIMEOUT" "$PYTHON" - "$STATUS_FILE" <<'PY' || summary_rc=$?
import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

NS = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
SKIPPED = {"NotExecuted", "Inconclusive", "NotRunnable", "Pending", "Warning"}
MAX_MESSAGE_LINES = 8
ABORT_MARK = re.compile(r"aborted|crashed|exited unexpectedly", re.IGNORECASE)
HANG_MARK = re.compile(r"inactivity time", re.IGNORECASE)

def strip(tag):
    return tag.split("}", 1)[-1]

def first_lines(text, n):
    lines = (text or "").strip().splitlines()
    out = lines[:n]
    if len(lines) > n:
        out.append("... (%d more lines in the TRX file)" % (len(lines) - n))
    return out

totals = {"passed": 0, "failed": 0, "skipped": 0}
broken = []      # (project, reason)
failures = []    # (project, test name, message lines)
rows = []

with open(sys.argv[1], encoding="utf-8") as f:
    entries = [line.rstrip("\n").split("\t") for line in f if line.strip()]

for name, rc, results_dir in entries:
    if rc == "build-failed":
        broken.append((name, "build failed (see the build output above)", []))
        rows.append((name, {"passed": 0, "failed": 0, "skipped": 0}, "build failed"))
        continue
    rc = int(rc)
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    trx_files = sorted(glob.glob(os.path.join(results_dir, "**", "*.trx"), recursive=True))
    problems = []
    run_outcomes = []
    run_errors = 0
    hung = False
    for trx in trx_files:
        try:
            root = ET.parse(trx).getroot()
        except ET.ParseError as e:
            problems.append("unreadable TRX %s: %s" % (trx, e))
            continue
        summary = root.find(NS + "ResultSummary")
        if summary is not None:
            run_outcomes.append(summary.get("outcome", ""))
            for info in summary.iter(NS + "RunInfo"):
                text = info.findtext(NS + "Text") or ""
                if HANG_MARK.search(text):
                    hung = True
                # Error RunInfos also carry ordinary stderr lines ("[FAIL]"): only an abort counts.
                if info.get("outcome") == "Error" and ABORT_MARK.search(text):
                    run_errors += 1
                    problems.extend(first_lines(text, 4))
        results = root.find(NS + "Results")
        if results is None:
            continue
        # Top-level results only: data-row children (InnerResults) are part of their parent.
        for res in results:
            if strip(res.tag) != "UnitTestResult" and strip(res.tag) != "TestResultAggregation":
                continue
            outcome = res.get("outcome", "")
            if outcome == "Passed":
                counts["passed"] += 1
            elif outcome in SKIPPED:
                counts["skipped"] += 1
            else:
                counts["failed"] += 1
                err = res.find("%sOutput/%sErrorInfo" % (NS, NS))
                lines = []
                if err is not None:
                    lines = first_lines(err.findtext(NS + "Message"), MAX_MESSAGE_LINES)
                    stack = first_lines(err.findtext(NS + "StackTrace"), 3)
                    lines += ["  " + s for s in stack]
                if outcome != "Failed":
                    lines.insert(0, "outcome: %s" % outcome)
                failures.append((name, res.get("testName", "?"), lines))

    # On a crash or hang the blame collector leaves a sequence file; unfinished tests were running.
    for seq in sorted(glob.glob(os.path.join(results_dir, "**", "Sequence_*.xml"), recursive=True)):
        try:
            for test in ET.parse(seq).getroot().iter("Test"):
                line = "running when the test host died: %s" % test.get("Name", "?")
                if test.get("Completed") == "False" and line not in problems:
                    problems.insert(0, line)
        except ET.ParseError:
            pass

    reason = None
    if not trx_files:
        reason = "no TRX file (exit code %d): the project did not run" % rc
    elif hung:
        reason = ("a test ran past the hang timeout (%s; STREAMS_TEST_HANG_TIMEOUT) and its test host was killed"
                  % os.environ.get("HANG_TIMEOUT", "?"))
    elif run_errors:
        # The run itself reported errors: test host crash, hang timeout, abort, adapter failure.
        reason = "test run aborted or errored (exit code %d)" % rc
    elif rc != 0 and counts["failed"] == 0:
        reason = "dotnet test exited with code %d but recorded no failed test" % rc
    elif any(o in ("Aborted", "Error", "Timeout") for o in run_outcomes):
        reason = "test run outcome %s" % ",".join(run_outcomes)
    if reason:
        broken.append((name, reason, problems))

    rows.append((name, counts, reason))
    for k in totals:
        totals[k] += counts[k]

print()
print("=" * 72)
print("Test summary")
print("=" * 72)
width = max([len(r[0]) for r in rows] + [7])
for name, c, reason in rows:
    line = "%-*s  %5d passed  %5d failed  %5d skipped" % (width, name, c["passed"], c["failed"], c["skipped"])
    if reason:
        line += "  [PROJECT FAILED]"
    print(line)
if not rows:
    print("(no test projects)")

if failures:
    print()
    print("Failed tests:")
    for project, test, lines in failures:
        print("  %s: %s" % (project, test))
        for l in lines:
            print("      " + l)

if broken:
    print()
    print("Projects that failed to run:")
    for project, reason, problems in broken:
        print("  %s: %s" % (project, reason))
        for p in problems[:8]:
            print("      " + p)

total_run = totals["passed"] + totals["failed"]
failed_total = totals["failed"] + len(broken)
print()
if total_run == 0 and not broken:
    print("error: no test ran")
elif failed_total:
    print("FAILED: %d failed test(s), %d project(s) failed to run" % (totals["failed"], len(broken)))
else:
    print("OK")
# A project that failed to run counts as one failure in the closing line.
print("%d passed, %d failed, %d skipped" % (totals["passed"], failed_total, totals["skipped"]))
sys.exit(1 if (failed_total or total_run == 0) else 0)
PY
exit "$summary_rc"
