#!/usr/bin/env bash
# Installs what Haven needs on a fresh Debian machine, skipping what is already there:
# system packages (Maven, PostgreSQL, curl), uv, the Python packages from uv.lock, and the
# Kafka and Keycloak servers from Maven Central (into .cache/). Safe to run again.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

missing=()
command -v mvn >/dev/null || missing+=(maven)
command -v curl >/dev/null || missing+=(curl)
command -v psql >/dev/null || missing+=(postgresql-client)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
if ((${#missing[@]})); then
  if ((EUID != 0)); then die "please install: ${missing[*]} (apt-get install ${missing[*]})"; fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
  # The Debian package starts a cluster of its own; Haven runs its own clusters instead.
  if [[ " ${missing[*]} " == *" postgresql "* ]] && command -v pg_ctlcluster >/dev/null; then
    for c in $(pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}'); do pg_ctlcluster "${c%/*}" "${c#*/}" stop || true; done
  fi
fi

# uv from PyPI; `python3 -m uv` works wherever pip put it, on PATH or not.
if ! command -v uv >/dev/null && ! python3 -m uv --version >/dev/null 2>&1; then
  log "installing uv"
  python3 -m pip install --quiet uv || python3 -m pip install --quiet --user uv || die "could not install uv"
fi
uv() { if command -v uv >/dev/null; then command uv "$@"; else python3 -m uv "$@"; fi; }

cd "$HAVEN_ROOT"
uv sync --frozen --inexact ${HAVEN_SYNC_GROUPS:-} || die "uv sync failed"
"$HAVEN_ROOT/deploy/kafka/kafka.sh" fetch
"$HAVEN_ROOT/deploy/keycloak/keycloak.sh" fetch
log "installed"
