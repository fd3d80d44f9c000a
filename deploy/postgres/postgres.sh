#!/usr/bin/env bash
# A throwaway PostgreSQL cluster from Debian's packages, on 127.0.0.1, with one database per service.
#
#   deploy/postgres/postgres.sh start   initdb (first time), start, create the databases
#   deploy/postgres/postgres.sh stop
#   deploy/postgres/postgres.sh status
#   deploy/postgres/postgres.sh url DB  print the connection URL of a database
#
# Settings (environment): POSTGRES_PORT (default 5432), HAVEN_RUN_DIR, POSTGRES_FAST=1 (fsync off:
# for speed in tests, never for durability or crash tests).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

POSTGRES_PORT=${POSTGRES_PORT:-5432}
DIR=$HAVEN_RUN_DIR/postgres
DATABASES=(intake referral registry)

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n $d && -x $d/initdb ]] || die "PostgreSQL server binaries not found (apt-get install postgresql)"
  echo "$d"
}

# initdb and pg_ctl refuse to run as root: run them as the `postgres` user the package creates.
as_owner() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local bin; bin=$(pg_bin)
  mkdir -p "$DIR"
  if ((EUID == 0)); then
    # The server runs as `postgres`, which must be able to traverse into the run directory.
    chmod a+x "$HAVEN_RUN_DIR"
    chown postgres:postgres "$DIR"
  fi
  chmod 700 "$DIR"
  if [[ ! -f $DIR/data/PG_VERSION ]]; then
    as_owner "$bin/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
      || die "initdb failed; log: $DIR/initdb.log"
  fi
  if as_owner "$bin/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    log "PostgreSQL already running"
  else
    local opts="-c listen_addresses=127.0.0.1 -p $POSTGRES_PORT -k $DIR -c max_connections=200"
    [[ ${POSTGRES_FAST:-0} == 1 ]] && opts+=" -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    as_owner "$bin/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t 60 -o "$opts" start >/dev/null \
      || { tail -n 20 "$DIR/postgres.log" >&2; die "PostgreSQL failed to start; log: $DIR/postgres.log"; }
  fi
  local db
  for db in "${DATABASES[@]}"; do
    psql -q "postgresql://postgres@127.0.0.1:$POSTGRES_PORT/postgres" -tAc "select 1 from pg_database where datname='$db'" | grep -q 1 \
      || psql -q "postgresql://postgres@127.0.0.1:$POSTGRES_PORT/postgres" -c "create database $db" >/dev/null
  done
  log "PostgreSQL ready at 127.0.0.1:$POSTGRES_PORT (databases: ${DATABASES[*]})"
}

stop() {
  [[ -f $DIR/data/PG_VERSION ]] || return 0
  local bin; bin=$(pg_bin)
  if as_owner "$bin/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$DIR/data" -m "${POSTGRES_STOP_MODE:-fast}" -w stop >/dev/null
    log "PostgreSQL stopped"
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) as_owner "$(pg_bin)/pg_ctl" -D "$DIR/data" status ;;
  url) echo "postgresql+psycopg://postgres@127.0.0.1:$POSTGRES_PORT/${2:?database}" ;;
  *) echo "usage: $0 start|stop|status|url DB" >&2; exit 2 ;;
esac
