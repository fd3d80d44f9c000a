"""docker-compose.yml says what `make up` (deploy/*.sh) and the settings classes say.

No Docker engine is needed: the compose file is read as YAML and compared with the local
scripts, the realm file, `.env.example` and each service's `Settings`, so that a rename, a new
setting or a new secret on one side fails here until the other side follows.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings

from haven_shared.cli.config import SERVICE_PORTS
from haven_shared.settings import ServiceSettings
from intake.config import Settings as IntakeSettings
from referral.config import Settings as ReferralSettings
from registry.config import Settings as RegistrySettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SETTINGS: dict[str, type[BaseSettings]] = {
    "intake": IntakeSettings,
    "referral": ReferralSettings,
    "registry": RegistrySettings,
}
REALM_FILE = "deploy/keycloak/realm-haven.json"
LOOPBACK = ("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))


def _env(compose: dict[str, Any], service: str) -> dict[str, str]:
    return {k: str(v) for k, v in (compose["services"][service].get("environment") or {}).items()}


def _script(name: str) -> str:
    return (DEPLOY / name).read_text("utf-8")


def _default(script: str, var: str) -> str:
    """The default a deploy script gives `var` (`${VAR:-default}`)."""
    found = re.search(rf"\$\{{{var}:-([^}}]+)\}}", script)
    assert found, f"no default for {var}"
    return found.group(1)


def _host_ports(compose: dict[str, Any], service: str) -> list[tuple[str, int, int]]:
    """(host address, host port, container port) of each published port."""
    out = []
    for spec in compose["services"][service].get("ports", []):
        host, port, inner = str(spec).rsplit(":", 2)
        out.append((host, int(port), int(inner)))
    return out


def _field_of(service: str, name: str) -> str | None:
    """The settings field an environment variable of `service` sets, if any."""
    prefix = f"{service.upper()}_"
    if not name.startswith(prefix):
        return None
    field = name.removeprefix(prefix).lower()
    return field if field in SETTINGS[service].model_fields else None


# ---- Keycloak: the same realm, its secrets, its address --------------------------------------


def test_compose_imports_the_realm_file_the_local_script_imports(compose: dict[str, Any]) -> None:
    keycloak = compose["services"]["keycloak"]
    mounts = [str(v).split(":") for v in keycloak["volumes"]]
    assert [(src, dst) for src, dst, *_ in mounts] == [
        (f"./{REALM_FILE}", "/opt/keycloak/data/import/realm-haven.json")
    ]
    assert "--import-realm" in keycloak["command"]
    assert f'"$HAVEN_ROOT/{REALM_FILE}"' in _script("keycloak/keycloak.sh")


def test_keycloak_gets_every_secret_the_realm_file_reads_and_the_local_stack_generates_them(
    compose: dict[str, Any],
) -> None:
    realm_vars = set(
        re.findall(r"\$\{(HAVEN_[A-Z0-9_]+)\}", (ROOT / REALM_FILE).read_text("utf-8"))
    )
    assert realm_vars, "the realm file reads its secrets from the environment"
    keycloak_env = _env(compose, "keycloak")
    assert realm_vars <= set(keycloak_env)
    for var in realm_vars:
        assert keycloak_env[var] == f"${{{var}:?set it in .env}}"
    generated = set(re.findall(r"^ensure (HAVEN_[A-Z0-9_]+)", _script("secrets.sh"), re.M))
    assert realm_vars <= generated


def test_the_secrets_compose_requires_are_exactly_those_of_env_example(
    compose: dict[str, Any],
) -> None:
    text = (ROOT / "docker-compose.yml").read_text("utf-8")
    required = set(re.findall(r"\$\{(HAVEN_[A-Z0-9_]+):\?", text))
    used = set(re.findall(r"\$\{(HAVEN_[A-Z0-9_]+)", text))
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text("utf-8").splitlines()
        if line and not line.startswith("#")
    }
    assert used == required == example
    generated = set(re.findall(r"^ensure (HAVEN_[A-Z0-9_]+)", _script("secrets.sh"), re.M))
    # The local PostgreSQL trusts its loopback socket; every other secret is generated alike.
    assert example - generated == {"HAVEN_POSTGRES_PASSWORD"}


def test_tokens_carry_the_issuer_the_services_and_the_cli_expect(compose: dict[str, Any]) -> None:
    default_issuer = ServiceSettings.model_fields["keycloak_issuer"].default
    hostname = next(
        a.split("=", 1)[1]
        for a in compose["services"]["keycloak"]["command"]
        if a.startswith("--hostname=")
    )
    assert f"{hostname}/realms/haven" == default_issuer
    assert re.search(r'issuer="http://127\.0\.0\.1:\$KEYCLOAK_PORT/realms/haven"', _script("up.sh"))
    for service in SETTINGS:
        env = _env(compose, service)
        prefix = service.upper()
        assert env[f"{prefix}_KEYCLOAK_ISSUER"] == default_issuer
        # Inside a container the issuer's loopback address is the container itself.
        jwks = urlsplit(env[f"{prefix}_KEYCLOAK_JWKS_URL"])
        assert jwks.hostname == "keycloak"
        assert jwks.path == urlsplit(default_issuer).path + "/protocol/openid-connect/certs"


# ---- the services' settings -----------------------------------------------------------------


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_every_service_variable_in_compose_is_a_setting_of_that_service(
    compose: dict[str, Any], service: str
) -> None:
    for name in _env(compose, service):
        if name.startswith("OTEL_"):
            continue  # read by the OpenTelemetry SDK itself
        assert _field_of(service, name), f"{service}: {name} is no setting of {service}"


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_compose_sets_what_make_up_sets_for_each_service(
    compose: dict[str, Any], service: str
) -> None:
    exported = set(re.findall(r'"\$\{prefix\}_([A-Z_]+)=', _script("up.sh")))
    assert {"KEYCLOAK_ISSUER", "KAFKA_BOOTSTRAP", "DATABASE_URL", "MASTER_KEY"} <= exported
    env = _env(compose, service)
    # Locally spans go to a file the auditors' trace route reads; compose sends them to Jaeger
    # over OTLP instead (TELEMETRY_EXPORTER is compared like every other setting).
    local_only = {"TELEMETRY_FILE"}
    for name in exported - local_only:
        if name.lower() in SETTINGS[service].model_fields:
            assert f"{service.upper()}_{name}" in env, f"{service}: {name} missing in compose"


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_every_setting_that_defaults_to_a_loopback_address_is_set_in_compose(
    compose: dict[str, Any], service: str
) -> None:
    env = _env(compose, service)
    for field, info in SETTINGS[service].model_fields.items():
        if isinstance(info.default, str) and any(h in info.default for h in LOOPBACK):
            assert f"{service.upper()}_{field.upper()}" in env, (
                f"{service}: {field} defaults to {info.default}, which in a container is the "
                "container itself"
            )


def test_both_sides_of_the_matching_secret_read_the_same_variable(compose: dict[str, Any]) -> None:
    sides = {
        s: _env(compose, s).get(f"{s.upper()}_MATCHING_KEY")
        for s in SETTINGS
        if "matching_key" in SETTINGS[s].model_fields
    }
    assert set(sides) == {"intake", "registry"}
    assert set(sides.values()) == {"${HAVEN_MATCHING_KEY:?set it in .env}"}


def test_services_reach_each_other_at_their_compose_names(compose: dict[str, Any]) -> None:
    registry = _env(compose, "registry")
    intake = urlsplit(registry["REGISTRY_INTAKE_URL"])
    container_port = _host_ports(compose, "intake")[0][2]
    assert (intake.hostname, intake.port) == ("intake", container_port)


def test_each_database_is_one_the_init_script_creates_as_postgres_sh_does(
    compose: dict[str, Any],
) -> None:
    created = set(
        re.findall(
            r"CREATE DATABASE (\w+);", (DEPLOY / "postgres/init-databases.sql").read_text("utf-8")
        )
    )
    local = set(
        re.search(r"DATABASES=\(([^)]*)\)", _script("postgres/postgres.sh")).group(1).split()
    )  # type: ignore[union-attr]
    used = {
        urlsplit(_env(compose, s)[f"{s.upper()}_DATABASE_URL"]).path.strip("/") for s in SETTINGS
    }
    assert used == created == local == set(SETTINGS)
    for service in SETTINGS:
        url = urlsplit(_env(compose, service)[f"{service.upper()}_DATABASE_URL"])
        assert url.scheme == "postgresql+psycopg" and url.hostname == "postgres"


# ---- ports and Kafka -------------------------------------------------------------------------


def test_published_ports_are_the_local_defaults(compose: dict[str, Any]) -> None:
    up = _script("up.sh")
    for service, port in SERVICE_PORTS.items():
        assert _host_ports(compose, service) == [("127.0.0.1", port, 8000)]
        assert _default(up, f"{service.upper()}_PORT") == str(port)
    issuer = urlsplit(ServiceSettings.model_fields["keycloak_issuer"].default)
    assert _host_ports(compose, "keycloak") == [("127.0.0.1", issuer.port, 8080)]
    assert _default(_script("keycloak/keycloak.sh"), "KEYCLOAK_PORT") == str(issuer.port)
    kafka_port = int(ServiceSettings.model_fields["kafka_bootstrap"].default.rsplit(":", 1)[1])
    assert _host_ports(compose, "kafka") == [("127.0.0.1", kafka_port, kafka_port)]
    assert _default(_script("kafka/kafka.sh"), "KAFKA_PORT") == str(kafka_port)
    postgres_port = int(_default(_script("postgres/postgres.sh"), "POSTGRES_PORT"))
    assert _host_ports(compose, "postgres") == [("127.0.0.1", postgres_port, 5432)]


def test_kafka_advertises_to_the_host_the_address_clients_default_to(
    compose: dict[str, Any],
) -> None:
    env = _env(compose, "kafka")
    advertised = dict(item.split("://", 1) for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert advertised["HOST"] == ServiceSettings.model_fields["kafka_bootstrap"].default
    internal = advertised["INTERNAL"]
    for service in SETTINGS:
        assert _env(compose, service)[f"{service.upper()}_KAFKA_BOOTSTRAP"] == internal


def test_kafka_topic_settings_match_the_local_broker_and_the_services(
    compose: dict[str, Any],
) -> None:
    env = _env(compose, "kafka")
    local = _script("kafka/kafka.sh")
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert "auto.create.topics.enable=false" in local
    partitions = int(env["KAFKA_NUM_PARTITIONS"])
    assert f"num.partitions={partitions}" in local
    for service, settings in SETTINGS.items():
        assert settings.model_fields["topic_partitions"].default == partitions, service


def test_images_are_the_versions_the_local_scripts_fetch(compose: dict[str, Any]) -> None:
    pom = (DEPLOY / "kafka/pom.xml").read_text("utf-8")
    kafka_version = re.search(r"<kafka.version>(.*?)</kafka.version>", pom)
    assert kafka_version
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{kafka_version.group(1)}"
    kc = _default(_script("keycloak/keycloak.sh"), "KC_VERSION")
    assert compose["services"]["keycloak"]["image"] == f"quay.io/keycloak/keycloak:{kc}"
