"""OAUTHBEARER tokens for Kafka clients, from Keycloak's client-credentials grant.

A service or partner client authenticates to the broker's client listener with its own Keycloak
client; the broker validates the token against the realm's keys and takes the client id (`azp`)
as the principal its ACLs name, e.g. `User:partner-shelter-a`.
"""

from __future__ import annotations

import threading
import time

import httpx
from kafka.net.sasl.oauth import AbstractTokenProvider


class KeycloakTokenProvider(AbstractTokenProvider):
    """Fetches and caches a client-credentials token, renewing it before it expires."""

    def __init__(self, token_url: str, client_id: str, client_secret: str,
                 renew_before_seconds: float = 30.0, timeout: float = 10.0) -> None:
        self._url = token_url
        self._auth = (client_id, client_secret)
        self._renew_before = renew_before_seconds
        self._timeout = timeout
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() > self._expires_at - self._renew_before:
                response = httpx.post(self._url, data={"grant_type": "client_credentials"},
                                      auth=self._auth, timeout=self._timeout)
                response.raise_for_status()
                body = response.json()
                self._token = str(body["access_token"])
                self._expires_at = time.monotonic() + float(body.get("expires_in", 60))
            return self._token


_PROVIDERS: dict[tuple[str, str], KeycloakTokenProvider] = {}
_PROVIDERS_LOCK = threading.Lock()


def shared_provider(token_url: str, client_id: str, client_secret: str) -> KeycloakTokenProvider:
    """The process's one token provider for this client, so that every producer, consumer and
    admin client of a service shares a cached token instead of each fetching its own."""
    with _PROVIDERS_LOCK:
        provider = _PROVIDERS.get((token_url, client_id))
        if provider is None:
            provider = KeycloakTokenProvider(token_url, client_id, client_secret)
            _PROVIDERS[(token_url, client_id)] = provider
        return provider


def oauth_client_options(provider: AbstractTokenProvider) -> dict[str, object]:
    """kafka-python options for the SASL/OAUTHBEARER client listener."""
    return {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "OAUTHBEARER",
        "sasl_oauth_token_provider": provider,
    }
