#!/usr/bin/env bash
# Generates the demo stack's secrets once per run directory and prints the file's path.
# They never enter git: the realm file and the services read them from the environment.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
file=$HAVEN_RUN_DIR/secrets.env
if [[ ! -f $file ]]; then
  mkdir -p "$HAVEN_RUN_DIR"
  umask 077
  gen() { python3 -c 'import secrets; print(secrets.token_urlsafe(18))'; }
  {
    echo "HAVEN_DEMO_PASSWORD=$(gen)"
    echo "HAVEN_SERVICE_SECRET=$(gen)"
    echo "HAVEN_PARTNER_SHELTER_A_SECRET=$(gen)"
    echo "HAVEN_PARTNER_CLINIC_B_SECRET=$(gen)"
    echo "HAVEN_KEYCLOAK_ADMIN_PASSWORD=$(gen)"
    echo "HAVEN_MASTER_KEY=$(python3 -c 'import base64,os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
  } >"$file"
fi
echo "$file"
