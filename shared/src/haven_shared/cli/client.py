"""Tokens from Keycloak (password grant) and authenticated HTTP clients for the services."""

from __future__ import annotations

from typing import Any

import httpx

from haven_shared.cli.config import CliSettings


class CliError(Exception):
    """A failure the CLI reports in one line and exits 1 for."""


def fetch_token(settings: CliSettings, username: str, password: str | None = None) -> str:
    """An access token for a person through the public CLI client (password grant)."""
    password = password if password is not None else settings.password
    if not password:
        raise CliError("no password: set HAVEN_PASSWORD or run `make up` (secrets.env)")
    url = f"{settings.issuer}/protocol/openid-connect/token"
    try:
        response = httpx.post(url, data={"grant_type": "password", "client_id": settings.client_id,
                                         "username": username, "password": password},
                              timeout=10)
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach Keycloak at {settings.issuer} "
                       f"({type(exc).__name__})") from exc
    if response.status_code != 200:
        raise CliError(f"Keycloak refused a token for {username}: HTTP {response.status_code}")
    return str(response.json()["access_token"])


def service_client(settings: CliSettings, service: str, token: str) -> httpx.Client:
    """An HTTP client for one service, sending the bearer token on every request."""
    return httpx.Client(base_url=settings.service_urls[service], timeout=30,
                        headers={"Authorization": f"Bearer {token}"})


def checked(response: httpx.Response, what: str) -> Any:
    """The JSON body of a successful response, else a CliError naming `what` and the problem."""
    if response.is_success:
        return response.json() if response.content else None
    try:
        detail = response.json().get("detail") or response.json().get("title")
    except ValueError:
        detail = response.text[:200]
    raise CliError(f"{what}: HTTP {response.status_code} {detail}")
