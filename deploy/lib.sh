# Common helpers for Haven's local server scripts (sourced, not run).
# Every server runs on 127.0.0.1 only, from a cache and a run directory that git ignores.
set -euo pipefail

HAVEN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HAVEN_CACHE=${HAVEN_CACHE:-$HAVEN_ROOT/.cache}
# One run directory per stack: `dev` for `make up`, a temporary one per test session.
HAVEN_RUN_DIR=${HAVEN_RUN_DIR:-$HAVEN_ROOT/.run/dev}
MAVEN_DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed (${2:-see README})"; }

# pid_alive FILE: true when FILE names a running process.
pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# start_bg NAME PIDFILE LOG CMD...: start CMD in its own session, detached, recording its pid.
start_bg() {
  local name=$1 pidfile=$2 logfile=$3; shift 3
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  setsid nohup "$@" >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  log "$name started (pid $(cat "$pidfile")), log: $logfile"
}

# stop_pidfile NAME PIDFILE [GRACE_SECONDS]: SIGTERM the process group, then SIGKILL after the grace.
stop_pidfile() {
  local name=$1 pidfile=$2 grace=${3:-30} pid
  if ! pid_alive "$pidfile"; then rm -f "$pidfile"; return 0; fi
  pid=$(cat "$pidfile")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $((grace * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop within ${grace}s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  log "$name stopped"
}

# wait_until NAME SECONDS PIDFILE LOG CHECK...: poll CHECK until it succeeds; fail with the log's
# location if the process dies or the deadline passes.
wait_until() {
  local name=$1 seconds=$2 pidfile=$3 logfile=$4; shift 4
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! pid_alive "$pidfile"; then
      tail -n 30 "$logfile" >&2 || true
      die "$name exited during start-up; its log is $logfile"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$logfile" >&2 || true
      die "$name was not ready within ${seconds}s; its log is $logfile"
    fi
    sleep 0.5
  done
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# java_home_for MIN_MAJOR: the newest JDK under /usr/lib/jvm whose major version is at least MIN_MAJOR.
java_home_for() {
  local min=$1 best="" best_major=0 d major
  for d in /usr/lib/jvm/*/; do
    d=${d%/}
    [[ -x $d/bin/java && ! -L $d ]] || continue
    major=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
    [[ $major =~ ^[0-9]+$ ]] || continue
    if ((major >= min && major > best_major)); then best=$d; best_major=$major; fi
  done
  [[ -n $best ]] || die "no JDK >= $min under /usr/lib/jvm"
  echo "$best"
}
