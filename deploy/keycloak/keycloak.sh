#!/usr/bin/env bash
# Keycloak from Maven Central (keycloak-quarkus-dist), on 127.0.0.1, with the `haven` realm imported.
#
#   deploy/keycloak/keycloak.sh fetch    download and build the server into the cache (once)
#   deploy/keycloak/keycloak.sh start    start, import the realm, wait until ready
#   deploy/keycloak/keycloak.sh stop
#   deploy/keycloak/keycloak.sh status
#
# Settings (environment): KEYCLOAK_PORT (default 8080), KEYCLOAK_MGMT_PORT (default KEYCLOAK_PORT+1000),
# HAVEN_RUN_DIR, HAVEN_CACHE. Demo passwords and client secrets are generated once per run directory
# into $HAVEN_RUN_DIR/secrets.env (see deploy/secrets.sh); the realm file reads them as ${VARIABLES}.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

KC_VERSION=${KC_VERSION:-26.7.3}
KC_DIST=$HAVEN_CACHE/keycloak/keycloak-$KC_VERSION
KEYCLOAK_PORT=${KEYCLOAK_PORT:-8080}
KEYCLOAK_MGMT_PORT=${KEYCLOAK_MGMT_PORT:-$((KEYCLOAK_PORT + 1000))}
DIR=$HAVEN_RUN_DIR/keycloak
# Options fixed at build time; `start --optimized` then skips the slow re-augmentation.
BUILD_OPTS=(--db=dev-mem --health-enabled=true)

kc_java_home() { echo "${KEYCLOAK_JAVA_HOME:-$(java_home_for 21)}"; }

fetch() {
  if [[ ! -f $KC_DIST/.complete ]]; then
    need mvn "apt-get install maven"
    log "fetching Keycloak $KC_VERSION from Maven Central into $HAVEN_CACHE/keycloak"
    rm -rf "$KC_DIST" "$HAVEN_CACHE/keycloak/.markers"
    mkdir -p "$HAVEN_CACHE/keycloak"
    # Run from the cache: without a project, the plugin writes its bookkeeping into the working directory.
    (cd "$HAVEN_CACHE/keycloak" && mvn -B -q "$MAVEN_DEPENDENCY_PLUGIN:unpack" -Dartifact="org.keycloak:keycloak-quarkus-dist:$KC_VERSION:zip" \
      -DoutputDirectory="$HAVEN_CACHE/keycloak" -DmarkersDirectory="$HAVEN_CACHE/keycloak/.markers" -Dmdep.overWriteReleases=true) || die "Maven could not fetch Keycloak"
    [[ -f $KC_DIST/bin/kc.sh ]] || die "kc.sh missing after unpacking Keycloak"
    touch "$KC_DIST/.complete"
  fi
  if [[ $(cat "$KC_DIST/.built" 2>/dev/null) != "${BUILD_OPTS[*]}" ]]; then
    log "building Keycloak (once, about a minute)"
    JAVA_HOME=$(kc_java_home) sh "$KC_DIST/bin/kc.sh" build "${BUILD_OPTS[@]}" >"$HAVEN_CACHE/keycloak/build.log" 2>&1 \
      || die "Keycloak build failed; log: $HAVEN_CACHE/keycloak/build.log"
    echo "${BUILD_OPTS[*]}" >"$KC_DIST/.built"
  fi
}

# Each run gets its own Keycloak home (bin copied, the built server linked), so several stacks can
# run side by side without writing into the shared install.
make_home() {
  local home=$DIR/home d
  rm -rf "$home" && mkdir -p "$home/data/import"
  cp -r "$KC_DIST/bin" "$home/bin"
  for d in lib conf providers themes; do ln -s "$KC_DIST/$d" "$home/$d"; done
  cp "$HAVEN_ROOT/deploy/keycloak/realm-haven.json" "$home/data/import/"
}

ready() { curl -fsS "http://127.0.0.1:$KEYCLOAK_PORT/realms/haven/.well-known/openid-configuration"; }

start() {
  local pidfile=$DIR/keycloak.pid
  if pid_alive "$pidfile"; then log "Keycloak already running (pid $(cat "$pidfile"))"; wait_ready; return 0; fi
  need curl "apt-get install curl"
  fetch
  "$HAVEN_ROOT/deploy/secrets.sh" >/dev/null
  set -a; source "$HAVEN_RUN_DIR/secrets.env"; set +a
  make_home
  local started=$SECONDS
  KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=$HAVEN_KEYCLOAK_ADMIN_PASSWORD \
  JAVA_HOME=$(kc_java_home) JAVA_OPTS_APPEND="-XX:TieredStopAtLevel=1" \
    start_bg keycloak "$pidfile" "$DIR/keycloak.log" sh "$DIR/home/bin/kc.sh" start --optimized \
      --http-enabled=true --http-host=127.0.0.1 --http-port="$KEYCLOAK_PORT" \
      --hostname="http://127.0.0.1:$KEYCLOAK_PORT" --http-management-port="$KEYCLOAK_MGMT_PORT" \
      --import-realm
  wait_ready
  log "Keycloak ready at http://127.0.0.1:$KEYCLOAK_PORT in $((SECONDS - started))s"
}

wait_ready() {
  wait_until keycloak "${KEYCLOAK_START_TIMEOUT:-240}" "$DIR/keycloak.pid" "$DIR/keycloak.log" ready
}

case ${1:-} in
  fetch) fetch ;;
  start) start ;;
  stop) stop_pidfile keycloak "$DIR/keycloak.pid" 30 ;;
  status) if pid_alive "$DIR/keycloak.pid"; then echo "keycloak: running (http://127.0.0.1:$KEYCLOAK_PORT)"; else echo "keycloak: stopped"; exit 1; fi ;;
  *) echo "usage: $0 fetch|start|stop|status" >&2; exit 2 ;;
esac
