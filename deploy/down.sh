#!/usr/bin/env bash
# Stops what deploy/up.sh started (services, Kafka, Keycloak). Data in .run/dev is kept.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for svc in intake referral registry; do stop_pidfile "$svc" "$HAVEN_RUN_DIR/$svc/$svc.pid" 20; done
"$HAVEN_ROOT/deploy/kafka/kafka.sh" stop
"$HAVEN_ROOT/deploy/keycloak/keycloak.sh" stop
