"""`haven dead-letters`: list the records a service's consumers parked, and replay them.

    haven dead-letters list [--service referral]
    haven dead-letters replay 12 --service referral
    haven dead-letters replay --all --service registry

Reads the service's own database (its `<SERVICE>_DATABASE_URL` setting, by default the SQLite
file of `make up`). Replaying puts the stored record back on the topic it came from, byte for
byte (same key, so the same partition; same event id): the service's running consumer reads it
again as a redelivery and, the cause being fixed, applies it, or parks it anew if it still
fails. The consumer's "dead-lettered" mark in its inbox is removed first, so the redelivery is
not skipped, and the dead letter only once the broker has the record. Replaying is idempotent:
the inbox never applies an event id twice, and a dead letter already replayed is gone, so
replaying it again does nothing. Other consumer groups of the topic skip the record as a
duplicate when they have seen its event id; a record nobody can read is parked again by them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Protocol

import sqlalchemy as sa
import typer
from kafka.errors import KafkaError
from rich.console import Console
from rich.table import Table

from haven_shared.cli.config import CliSettings
from haven_shared.db import make_engine
from haven_shared.inbox import DEAD_LETTER, INBOX

SERVICES = ("intake", "referral", "registry")

app = typer.Typer(
    help="Records the services' consumers gave up on: list and replay them.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True)


class Sender(Protocol):
    """What replaying needs of a Kafka producer: send one record and wait for the broker."""

    def __call__(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None: ...


@dataclass(frozen=True)
class Letter:
    """One dead letter as the operator sees it (the record's bytes stay in the database)."""

    id: int
    consumer: str
    topic: str
    partition: int
    offset: int
    key: str | None  # the record's key (an aggregate id, such as a case's)
    event_id: str | None
    event_type: str | None
    reason: str
    attempts: int
    failed_at: datetime | None


def database_url(
    service: str, env: Mapping[str, str] | None = None, settings: CliSettings | None = None
) -> str:
    """The service's database: its `<SERVICE>_DATABASE_URL`, else the SQLite file of `make up`."""
    env = os.environ if env is None else env
    url = env.get(f"{service.upper()}_DATABASE_URL", "")
    if url:
        return url
    run_dir = (settings or CliSettings.load(env)).run_dir
    return f"sqlite:///{run_dir / f'{service}.db'}"


def kafka_bootstrap(service: str, env: Mapping[str, str] | None = None) -> str:
    """The broker the service uses: its `<SERVICE>_KAFKA_BOOTSTRAP`, else the local default."""
    env = os.environ if env is None else env
    return env.get(f"{service.upper()}_KAFKA_BOOTSTRAP", "127.0.0.1:9092")


def list_letters(engine: sa.Engine, consumer: str | None = None) -> list[Letter]:
    """Every dead letter (of one consumer, when given), oldest first."""
    t = DEAD_LETTER
    query = sa.select(
        t.c.id,
        t.c.consumer,
        t.c.topic,
        t.c.partition,
        t.c.offset,
        t.c.key,
        t.c.event_id,
        t.c.event_type,
        t.c.reason,
        t.c.attempts,
        t.c.failed_at,
    ).order_by(t.c.id)
    if consumer:
        query = query.where(t.c.consumer == consumer)
    with engine.connect() as conn:
        return [Letter(**{**row._mapping, "key": _text(row.key)}) for row in conn.execute(query)]


def _text(key: bytes | None) -> str | None:
    return None if key is None else key.decode("utf-8", "replace")


def replay(engine: sa.Engine, send: Sender, ids: Iterable[int] | None = None) -> dict[int, str]:
    """Put dead letters back on their topics (all of them, or those in `ids`).

    Returns id → "replayed" or "not found" (already replayed, or never there). Per letter:
    the inbox mark goes first (committed, so the redelivered record is not skipped), then the
    record is sent and acknowledged, then the dead letter is deleted. A failure in between
    leaves the dead letter listed; replaying it again is harmless.
    """
    t = DEAD_LETTER
    query = sa.select(t).order_by(t.c.id)
    wanted = None if ids is None else sorted(set(ids))
    if wanted is not None:
        query = query.where(t.c.id.in_(wanted))
    with engine.connect() as conn:
        letters = conn.execute(query).all()
    outcomes = {i: "not found" for i in wanted or ()}
    for letter in letters:
        if letter.event_id is not None:
            with engine.begin() as conn:
                conn.execute(
                    INBOX.delete().where(
                        INBOX.c.consumer == letter.consumer,
                        INBOX.c.event_id == letter.event_id,
                        INBOX.c.outcome == "dead-lettered",
                    )
                )
        headers = [(k, str(v).encode()) for k, v in (letter.headers or {}).items()]
        send(letter.topic, letter.key, letter.value, headers)
        with engine.begin() as conn:
            conn.execute(t.delete().where(t.c.id == letter.id))
        outcomes[letter.id] = "replayed"
    return outcomes


def kafka_sender(bootstrap: str) -> tuple[Sender, Callable[[], None]]:
    """A sender over an idempotent producer, and the function closing it."""
    from haven_shared.kafka import make_producer

    producer = make_producer(bootstrap, client_id="haven-cli-dead-letters")

    def send(
        topic: str, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        producer.send(topic, key=key, value=value, headers=headers).get(timeout=30)

    return send, lambda: producer.close(timeout=5)


# ---- commands --------------------------------------------------------------------------------

Service = Annotated[
    str | None, typer.Option("--service", help="intake, referral or registry (default: all three)")
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        show_default=False,
        help="Default: the service's <SERVICE>_DATABASE_URL, else its SQLite file of `make up`",
    ),
]


def _services(service: str | None) -> list[str]:
    if service is None:
        return list(SERVICES)
    if service not in SERVICES:
        errors.print(f"[red]unknown service {service!r}: intake, referral or registry")
        raise typer.Exit(2)
    return [service]


def _engine(url: str) -> sa.Engine:
    return make_engine(url)


def _letters_of(service: str, url: str) -> list[Letter]:
    engine = _engine(url)
    try:
        return list_letters(engine)
    except sa.exc.OperationalError as exc:
        errors.print(f"[red]{service}: database not reachable ({type(exc).__name__})")
        raise typer.Exit(1) from exc
    except sa.exc.ProgrammingError as exc:
        errors.print(f"[red]{service}: no dead_letter table (database not migrated?)")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


@app.command("list")
def list_command(
    service: Service = None,
    db_url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List dead letters: id, consumer, where the record was, its type, why and how often."""
    if db_url and service is None:
        errors.print("[red]--database-url needs --service")
        raise typer.Exit(2)
    rows: list[tuple[str, Letter]] = []
    for svc in _services(service):
        url = db_url or database_url(svc)
        rows += [(svc, letter) for letter in _letters_of(svc, url)]
    if as_json:
        typer.echo(
            json.dumps(
                [{"service": svc, **asdict(letter)} for svc, letter in rows], default=str, indent=2
            )
        )
        return
    table = Table(
        "service",
        "id",
        "consumer",
        "topic/partition/offset",
        "event type",
        "reason",
        "attempts",
        "failed at",
        title=f"{len(rows)} dead letters",
    )
    for svc, letter in rows:
        table.add_row(
            svc,
            str(letter.id),
            letter.consumer,
            f"{letter.topic}/{letter.partition}/{letter.offset}",
            letter.event_type or "",
            letter.reason,
            str(letter.attempts),
            letter.failed_at.isoformat(timespec="seconds") if letter.failed_at else "",
        )
    console.print(table)


@app.command("replay")
def replay_command(
    service: Annotated[str, typer.Option("--service", help="intake, referral or registry")],
    ids: Annotated[
        list[int] | None, typer.Argument(help="Dead-letter ids", show_default=False)
    ] = None,
    replay_all: Annotated[
        bool, typer.Option("--all", help="Every dead letter of the service")
    ] = False,
    db_url: DatabaseUrl = None,
    bootstrap: Annotated[
        str | None,
        typer.Option(
            "--kafka-bootstrap",
            show_default=False,
            help="Default: the service's <SERVICE>_KAFKA_BOOTSTRAP, else 127.0.0.1:9092",
        ),
    ] = None,
) -> None:
    """Put dead letters back on their topics for the service's consumer (after a fix)."""
    if bool(ids) == replay_all:
        errors.print("[red]name dead-letter ids or --all (not both)")
        raise typer.Exit(2)
    [svc] = _services(service)
    try:
        send, close = kafka_sender(bootstrap or kafka_bootstrap(svc))
    except KafkaError as exc:
        errors.print(f"[red]Kafka not reachable ({type(exc).__name__})")
        raise typer.Exit(1) from exc
    engine = _engine(db_url or database_url(svc))
    try:
        outcomes = replay(engine, send, None if replay_all else ids)
    except sa.exc.SQLAlchemyError as exc:
        errors.print(f"[red]{svc}: database error ({type(exc).__name__})")
        raise typer.Exit(1) from exc
    except KafkaError as exc:
        errors.print(
            f"[red]Kafka refused the record ({type(exc).__name__}); the dead letter stays listed"
        )
        raise typer.Exit(1) from exc
    finally:
        close()
        engine.dispose()
    for letter_id, outcome in sorted(outcomes.items()):
        console.print(f"{letter_id}: {outcome}")
    console.print(f"{sum(o == 'replayed' for o in outcomes.values())} replayed")
