#!/usr/bin/env bash
# Generates the demo stack's secrets once per run directory and prints the file's path.
# They never enter git: the realm file and the services read them from the environment.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
file=$HAVEN_RUN_DIR/secrets.env
mkdir -p "$HAVEN_RUN_DIR"
umask 077
touch "$file"
gen() { python3 -c 'import secrets; print(secrets.token_urlsafe(18))'; }
# Adds each secret the file lacks, so an older run directory gains newly needed ones.
ensure() { grep -q "^$1=" "$file" || echo "$1=$2" >>"$file"; }
ensure HAVEN_DEMO_PASSWORD "$(gen)"
ensure HAVEN_SERVICE_SECRET "$(gen)"
ensure HAVEN_PARTNER_SHELTER_A_SECRET "$(gen)"
ensure HAVEN_PARTNER_CLINIC_B_SECRET "$(gen)"
ensure HAVEN_KEYCLOAK_ADMIN_PASSWORD "$(gen)"
ensure HAVEN_KAFKA_BROKER_PASSWORD "$(gen)"
ensure HAVEN_KAFKA_ADMIN_PASSWORD "$(gen)"
ensure HAVEN_MATCHING_KEY "$(gen)$(gen)"
ensure HAVEN_MASTER_KEY "$(python3 -c 'import base64,os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
echo "$file"
