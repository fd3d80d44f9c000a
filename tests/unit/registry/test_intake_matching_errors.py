"""How the person index tells an intake outage (wait for it) from a refusal (park the event)."""

from __future__ import annotations

import httpx
import pytest

from haven_shared.crypto import SubjectErased
from haven_shared.inbox import DependencyUnavailable
from registry.adapters.intake_matching import IntakeMatchingKeys, IntakeRefused, IntakeUnavailable


def keys_answering(handler) -> IntakeMatchingKeys:  # type: ignore[no-untyped-def]
    client = httpx.Client(base_url="http://intake", transport=httpx.MockTransport(handler))
    return IntakeMatchingKeys("", "secret", client=client)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_a_server_error_or_throttling_is_an_outage(status: int) -> None:
    keys = keys_answering(lambda request: httpx.Response(status))
    with pytest.raises(IntakeUnavailable) as caught:
        keys.fetch("k-1234")
    assert isinstance(caught.value, DependencyUnavailable)


def test_an_unreachable_intake_is_an_outage() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(IntakeUnavailable):
        keys_answering(refuse).fetch("k-1234")


@pytest.mark.parametrize("status", [400, 401, 403])
def test_a_refusal_is_not_an_outage(status: int) -> None:
    with pytest.raises(IntakeRefused) as caught:
        keys_answering(lambda request: httpx.Response(status)).fetch("k-1234")
    assert not isinstance(caught.value, DependencyUnavailable)


@pytest.mark.parametrize("status", [404, 410])
def test_an_unknown_or_erased_subject_is_neither(status: int) -> None:
    with pytest.raises(SubjectErased):
        keys_answering(lambda request: httpx.Response(status)).fetch("k-1234")


def test_the_request_is_signed_for_the_key_it_asks_for() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"key_id": "k-1234", "key": "AAAA"})

    assert keys_answering(answer).fetch("k-1234") == b"\x00\x00\x00"
    assert seen[0].url.path == "/internal/matching-keys/k-1234"
    assert seen[0].headers["Authorization"].startswith("HavenMatching ")
