#!/usr/bin/env bash
# Starts Haven locally: Keycloak, Kafka and the three services (SQLite), then prints where they are.
# Idempotent: what already runs is left running. `deploy/down.sh` stops everything.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export HAVEN_RUN_DIR KEYCLOAK_PORT=${KEYCLOAK_PORT:-8080} KAFKA_PORT=${KAFKA_PORT:-9092}
declare -A PORTS=([intake]=${INTAKE_PORT:-8001} [referral]=${REFERRAL_PORT:-8002} [registry]=${REGISTRY_PORT:-8003})

"$HAVEN_ROOT/deploy/secrets.sh" >/dev/null
set -a; source "$HAVEN_RUN_DIR/secrets.env"; set +a
issuer="http://127.0.0.1:$KEYCLOAK_PORT/realms/haven"
# HAVEN_KAFKA_SECURED=1: the broker takes only Keycloak tokens (SASL/OAUTHBEARER) and enforces the
# ACLs derived from the documented topology; each service connects as its own Keycloak client.
# (Decided when the broker of this run directory is first started.)
HAVEN_KAFKA_SECURED=${HAVEN_KAFKA_SECURED:-0}
kafka_env=()
if [[ $HAVEN_KAFKA_SECURED == 1 ]]; then
  export KAFKA_OAUTH_ISSUER=$issuer KAFKA_INTERNAL_PORT=${KAFKA_INTERNAL_PORT:-$((KAFKA_PORT + 200))}
  kafka_env=(KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT "KAFKA_CLIENT_SECRET=$HAVEN_SERVICE_SECRET")
fi
# Keycloak first: services (and, with SASL, the broker) fetch its keys.
"$HAVEN_ROOT/deploy/keycloak/keycloak.sh" start
"$HAVEN_ROOT/deploy/kafka/kafka.sh" start
if [[ $HAVEN_KAFKA_SECURED == 1 ]]; then
  "$HAVEN_ROOT/.venv/bin/python" -m haven_shared.kafka_acls \
    --bootstrap "127.0.0.1:$KAFKA_INTERNAL_PORT" --partner shelter-a --partner clinic-b >&2
fi

for svc in intake referral registry; do
  pidfile=$HAVEN_RUN_DIR/$svc/$svc.pid
  if pid_alive "$pidfile"; then log "$svc already running"; continue; fi
  prefix=${svc^^} dbvar=${svc^^}_DATABASE_URL
  (
    export "${prefix}_KEYCLOAK_ISSUER=$issuer" "${prefix}_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT" \
      "${prefix}_DATABASE_URL=${!dbvar:-sqlite:///$HAVEN_RUN_DIR/$svc.db}" "${prefix}_MASTER_KEY=$HAVEN_MASTER_KEY" \
      "${prefix}_MATCHING_KEY=$HAVEN_MATCHING_KEY" \
      "${prefix}_TELEMETRY_EXPORTER=${HAVEN_TELEMETRY_EXPORTER:-file}" \
      "${prefix}_TELEMETRY_FILE=$HAVEN_RUN_DIR/$svc/spans.jsonl"
    for setting in "${kafka_env[@]}"; do export "${prefix}_$setting"; done
    start_bg "$svc" "$pidfile" "$HAVEN_RUN_DIR/$svc/$svc.log" \
      "$HAVEN_ROOT/.venv/bin/uvicorn" --factory "$svc.main:create_app" \
      --host 127.0.0.1 --port "${PORTS[$svc]}" --no-access-log
  )
done
for svc in intake referral registry; do
  wait_until "$svc" 60 "$HAVEN_RUN_DIR/$svc/$svc.pid" "$HAVEN_RUN_DIR/$svc/$svc.log" \
    curl -fsS "http://127.0.0.1:${PORTS[$svc]}/readyz"
done

cat <<INFO

Haven is running (logs and secrets in $HAVEN_RUN_DIR):
  intake    http://127.0.0.1:${PORTS[intake]}/docs
  referral  http://127.0.0.1:${PORTS[referral]}/docs
  registry  http://127.0.0.1:${PORTS[registry]}/docs
  Keycloak  http://127.0.0.1:$KEYCLOAK_PORT  (realm haven; admin user 'admin', password in $HAVEN_RUN_DIR/secrets.env)
  Kafka     127.0.0.1:$KAFKA_PORT$([[ $HAVEN_KAFKA_SECURED == 1 ]] && echo "  (SASL/OAUTHBEARER with Keycloak client tokens, ACLs on)")

A token for the demo caseworker 'ana' (every demo user shares HAVEN_DEMO_PASSWORD from secrets.env):
  source $HAVEN_RUN_DIR/secrets.env
  TOKEN=\$(curl -s -d grant_type=password -d client_id=haven-cli -d username=ana \\
      -d password="\$HAVEN_DEMO_PASSWORD" $issuer/protocol/openid-connect/token | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
  curl -s -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:${PORTS[intake]}/whoami

Stop everything with: make down
INFO
