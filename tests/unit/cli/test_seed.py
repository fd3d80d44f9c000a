"""`haven seed` against a fake registry: creates the demo providers once, then finds them."""

from __future__ import annotations

import json
import uuid

import httpx

from haven_shared.cli.seed import DEMO_PROVIDERS, seed_providers


class FakeDirectory:
    """Just enough of the registry's directory API for the seed."""

    def __init__(self) -> None:
        self.organisations: list[dict] = []  # type: ignore[type-arg]
        self.services: list[dict] = []  # type: ignore[type-arg]
        self.posts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "GET" and path == "/directory/organisations":
            return httpx.Response(200, json=self.organisations)
        if request.method == "GET" and path == "/directory/services":
            org = request.url.params["organisation_id"]
            return httpx.Response(200, json=[s for s in self.services
                                             if s["organisation_id"] == org])
        body = {**json.loads(request.content), "id": str(uuid.uuid4())}
        self.posts += 1
        (self.organisations if path.endswith("organisations") else self.services).append(body)
        return httpx.Response(201, json=body)


def test_the_seed_creates_each_demo_provider_once() -> None:
    directory = FakeDirectory()
    client = httpx.Client(transport=httpx.MockTransport(directory), base_url="http://registry")
    first = seed_providers(client)
    assert [s["name"] for s in first] == [service["name"] for _, service in DEMO_PROVIDERS]
    assert directory.posts == 2 * len(DEMO_PROVIDERS)
    second = seed_providers(client)
    assert [s["id"] for s in second] == [s["id"] for s in first]
    assert directory.posts == 2 * len(DEMO_PROVIDERS)


def test_shelter_a_is_linked_to_the_keycloak_organisation_of_the_partner_client() -> None:
    directory = FakeDirectory()
    seed_providers(httpx.Client(transport=httpx.MockTransport(directory),
                                base_url="http://registry"))
    shelter = next(o for o in directory.organisations if o["code"] == "shelter-a")
    [service] = [s for s in directory.services if s["organisation_id"] == shelter["id"]]
    assert service["kind"] == "shelter"
