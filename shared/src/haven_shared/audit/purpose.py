"""Purpose of use: reads of a case must say why, in the `X-Purpose-Of-Use` header.

    @router.get("/cases/{case_id}")
    def read_case(case_id: str, principal: CurrentPrincipal, purpose: PurposeOfUse): ...

A missing or malformed header is refused with 400 problem+json (the value is never echoed).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header

from haven_shared.errors import HavenError

PURPOSE_HEADER = "X-Purpose-Of-Use"
_PURPOSE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class PurposeRequired(HavenError):
    """A read of personal data without a (well-formed) purpose of use."""

    status, title, type_slug = 400, "Purpose of use required", "purpose-required"


def purpose_of_use(
    x_purpose_of_use: Annotated[str | None, Header(alias=PURPOSE_HEADER)] = None,
) -> str:
    """FastAPI dependency: the request's purpose of use, or 400."""
    if x_purpose_of_use is None or not x_purpose_of_use.strip():
        raise PurposeRequired(f"Reading this record needs the {PURPOSE_HEADER} header.")
    value = x_purpose_of_use.strip()
    if not _PURPOSE.match(value):
        raise PurposeRequired(f"The {PURPOSE_HEADER} header must be a short code such as "
                              "'family-tracing' (letters, digits, '.', '_', ':', '-').")
    return value


PurposeOfUse = Annotated[str, Depends(purpose_of_use)]
