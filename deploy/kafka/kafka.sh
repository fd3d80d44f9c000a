#!/usr/bin/env bash
# Apache Kafka in KRaft mode from Maven Central jars, on 127.0.0.1, without Docker.
#
#   deploy/kafka/kafka.sh fetch                  download the broker into the cache (once)
#   deploy/kafka/kafka.sh start [--brokers 1|3]  format (first time) and start, wait until ready
#   deploy/kafka/kafka.sh stop                   stop every node of this run directory
#   deploy/kafka/kafka.sh status
#   deploy/kafka/kafka.sh kill NODE              SIGKILL one node (fault tests)
#   deploy/kafka/kafka.sh start-node NODE        start one node of an existing cluster again
#
# Settings (environment): KAFKA_PORT (first client port, default 9092; node i uses KAFKA_PORT+i-1),
# KAFKA_CONTROLLER_PORT (default KAFKA_PORT+100), HAVEN_RUN_DIR, HAVEN_CACHE, KAFKA_HEAP (default 512m).
#
# Secured mode: with KAFKA_OAUTH_ISSUER set (the Keycloak realm URL, which must already be up), the
# client port takes SASL/OAUTHBEARER tokens validated against the realm's keys (audience
# kafka-broker, principal = the token's azp, i.e. the Keycloak client id) and ACLs are enforced by
# the StandardAuthorizer. Brokers talk to each other, and the admin (topics, ACLs) connects, over
# SASL/PLAIN on KAFKA_INTERNAL_PORT (default KAFKA_PORT+200) with passwords from secrets.env.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HAVEN_ROOT/deploy/kafka/pom.xml")
LIBS=$HAVEN_CACHE/kafka-$KAFKA_VERSION/libs
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 100))}
KAFKA_HEAP=${KAFKA_HEAP:-512m}
KAFKA_INTERNAL_PORT=${KAFKA_INTERNAL_PORT:-$((KAFKA_PORT + 200))}
KAFKA_OAUTH_ISSUER=${KAFKA_OAUTH_ISSUER:-}
DIR=$HAVEN_RUN_DIR/kafka

fetch() {
  [[ -f $LIBS/.complete ]] && return 0
  need mvn "apt-get install maven"
  log "fetching Apache Kafka $KAFKA_VERSION from Maven Central into $LIBS"
  local tmp=$LIBS.partial
  rm -rf "$tmp"
  mvn -B -q -f "$HAVEN_ROOT/deploy/kafka/pom.xml" "$MAVEN_DEPENDENCY_PLUGIN:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$tmp" || die "Maven could not fetch Kafka"
  ls "$tmp"/kafka_2.13-*.jar >/dev/null || die "kafka_2.13 jar missing after fetch"
  rm -rf "$LIBS" && mv "$tmp" "$LIBS" && touch "$LIBS/.complete"
}

java_for_kafka() { echo "${KAFKA_JAVA:-$(java_home_for 17)/bin/java}"; }

node_count() { cat "$DIR/nodes" 2>/dev/null || echo 0; }

render_config() {  # NODE COUNT
  local node=$1 count=$2 i voters="" rf=1 isr=1
  for ((i = 1; i <= count; i++)); do voters+="${voters:+,}$i@127.0.0.1:$((KAFKA_CONTROLLER_PORT + i - 1))"; done
  if ((count >= 3)); then rf=3; isr=2; fi
  local port=$((KAFKA_PORT + node - 1)) cport=$((KAFKA_CONTROLLER_PORT + node - 1))
  mkdir -p "$DIR/node$node"
  local props=$DIR/node$node/server.properties
  if [[ -n $KAFKA_OAUTH_ISSUER ]]; then
    secured_listeners "$port" "$cport" $((KAFKA_INTERNAL_PORT + node - 1)) >"$props"
  else
    cat >"$props" <<PROPS
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
PROPS
  fi
  chmod 600 "$props"
  cat >>"$props" <<PROPS
process.roles=broker,controller
node.id=$node
controller.quorum.voters=$voters
controller.listener.names=CONTROLLER
log.dirs=$DIR/node$node/data
num.partitions=3
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
unclean.leader.election.enable=false
PROPS
}

jwks_url() { echo "$KAFKA_OAUTH_ISSUER/protocol/openid-connect/certs"; }

secured_listeners() {  # CLIENT_PORT CONTROLLER_PORT INTERNAL_PORT
  : "${HAVEN_KAFKA_BROKER_PASSWORD:?secrets.env lacks HAVEN_KAFKA_BROKER_PASSWORD}"
  : "${HAVEN_KAFKA_ADMIN_PASSWORD:?secrets.env lacks HAVEN_KAFKA_ADMIN_PASSWORD}"
  local plain="org.apache.kafka.common.security.plain.PlainLoginModule required"
  local users="user_broker=\"$HAVEN_KAFKA_BROKER_PASSWORD\" user_admin=\"$HAVEN_KAFKA_ADMIN_PASSWORD\""
  cat <<PROPS
listeners=CLIENT://127.0.0.1:$1,INTERNAL://127.0.0.1:$3,CONTROLLER://127.0.0.1:$2
advertised.listeners=CLIENT://127.0.0.1:$1,INTERNAL://127.0.0.1:$3
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=INTERNAL
sasl.mechanism.inter.broker.protocol=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.internal.sasl.enabled.mechanisms=PLAIN
listener.name.internal.plain.sasl.jaas.config=$plain username="broker" password="$HAVEN_KAFKA_BROKER_PASSWORD" $users;
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=$plain username="broker" password="$HAVEN_KAFKA_BROKER_PASSWORD" $users;
listener.name.client.sasl.enabled.mechanisms=OAUTHBEARER
listener.name.client.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ;
listener.name.client.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler
listener.name.client.oauthbearer.sasl.oauthbearer.jwks.endpoint.url=$(jwks_url)
sasl.oauthbearer.jwt.validator.class=org.apache.kafka.common.security.oauthbearer.BrokerJwtValidator
sasl.oauthbearer.expected.issuer=$KAFKA_OAUTH_ISSUER
sasl.oauthbearer.expected.audience=kafka-broker
sasl.oauthbearer.sub.claim.name=azp
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:broker;User:admin
PROPS
}

java_opts() {  # NODE
  echo "-Xms128m -Xmx$KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true" \
    "-Dlog4j2.configurationFile=$HAVEN_ROOT/deploy/kafka/log4j2.properties -Dkafka.logs.dir=$DIR/node$1/logs"
  # Kafka refuses every OAuth URL not listed here (exact match).
  [[ -z $KAFKA_OAUTH_ISSUER ]] || echo "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=$(jwks_url)"
}

format_node() {  # NODE CLUSTER_ID
  local node=$1 cid=$2
  [[ -f $DIR/node$node/data/meta.properties ]] && return 0
  # shellcheck disable=SC2046
  "$(java_for_kafka)" $(java_opts "$node") -cp "$LIBS/*" kafka.tools.StorageTool format \
    -t "$cid" -c "$DIR/node$node/server.properties" >"$DIR/node$node/format.log" 2>&1 \
    || { cat "$DIR/node$node/format.log" >&2; die "formatting node $node failed; log: $DIR/node$node/format.log"; }
}

start_node() {  # NODE
  local node=$1 pidfile=$DIR/node$1/kafka.pid
  if pid_alive "$pidfile"; then log "node $node already running (pid $(cat "$pidfile"))"; return 0; fi
  # shellcheck disable=SC2046
  start_bg "kafka node $node" "$pidfile" "$DIR/node$node/kafka.log" \
    "$(java_for_kafka)" $(java_opts "$node") -cp "$LIBS/*" kafka.Kafka "$DIR/node$node/server.properties"
}

node_ready() {  # NODE
  tcp_open $((KAFKA_PORT + $1 - 1)) && grep -q 'Kafka Server started' "$DIR/node$1/kafka.log"
}

wait_node() {
  wait_until "kafka node $1" "${KAFKA_START_TIMEOUT:-120}" "$DIR/node$1/kafka.pid" "$DIR/node$1/kafka.log" node_ready "$1"
}

start() {
  local count=1
  while (($#)); do
    case $1 in
      --brokers) count=$2; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  [[ $count == 1 || $count == 3 ]] || die "--brokers takes 1 or 3"
  fetch
  if [[ -n $KAFKA_OAUTH_ISSUER ]]; then
    "$HAVEN_ROOT/deploy/secrets.sh" >/dev/null
    set -a; source "$HAVEN_RUN_DIR/secrets.env"; set +a
    curl -fsS "$(jwks_url)" >/dev/null || die "Keycloak's keys at $(jwks_url) are unreachable; start Keycloak first"
  fi
  local existing; existing=$(node_count)
  if ((existing != 0 && existing != count)); then
    die "$DIR holds a $existing-node cluster; stop it and remove $DIR first"
  fi
  mkdir -p "$DIR"
  echo "$count" >"$DIR/nodes"
  # A cluster id is 16 random bytes in url-safe base64; one starting with "-" would be read as an
  # option by the storage tool, so such ids are drawn again (as Kafka's own generator does).
  [[ -f $DIR/cluster.id ]] || python3 -c '
import base64, uuid
while (cid := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"):
    pass
print(cid)' >"$DIR/cluster.id"
  local started=$SECONDS node
  for ((node = 1; node <= count; node++)); do
    render_config "$node" "$count"
    format_node "$node" "$(cat "$DIR/cluster.id")"
    start_node "$node"
  done
  for ((node = 1; node <= count; node++)); do wait_node "$node"; done
  log "Kafka ready at $(bootstrap) in $((SECONDS - started))s"
}

bootstrap() {
  local count i out=""; count=$(node_count); ((count > 0)) || count=1
  for ((i = 1; i <= count; i++)); do out+="${out:+,}127.0.0.1:$((KAFKA_PORT + i - 1))"; done
  echo "$out"
}

stop() {
  local count node; count=$(node_count)
  # Signal every node first: the last controller of a cluster cannot shut down cleanly alone.
  for ((node = 1; node <= count; node++)); do
    pid_alive "$DIR/node$node/kafka.pid" && kill -TERM -- "-$(cat "$DIR/node$node/kafka.pid")" 2>/dev/null || true
  done
  for ((node = 1; node <= count; node++)); do stop_pidfile "kafka node $node" "$DIR/node$node/kafka.pid" 60; done
}

status() {
  local count node rc=0; count=$(node_count)
  ((count > 0)) || { echo "kafka: not configured in $DIR"; return 1; }
  for ((node = 1; node <= count; node++)); do
    if pid_alive "$DIR/node$node/kafka.pid"; then echo "kafka node $node: running (127.0.0.1:$((KAFKA_PORT + node - 1)))"
    else echo "kafka node $node: stopped"; rc=1; fi
  done
  return $rc
}

case ${1:-} in
  fetch) fetch ;;
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  bootstrap) bootstrap ;;
  kill) pid_alive "$DIR/node$2/kafka.pid" && kill -KILL -- "-$(cat "$DIR/node$2/kafka.pid")"; rm -f "$DIR/node$2/kafka.pid" ;;
  start-node) start_node "$2"; wait_node "$2" ;;
  *) echo "usage: $0 fetch|start [--brokers 1|3]|stop|status|bootstrap|kill NODE|start-node NODE" >&2; exit 2 ;;
esac
