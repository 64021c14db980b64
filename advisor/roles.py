"""Who is asking: API keys map to roles. Anonymous and prospects see public sources only."""

from __future__ import annotations

import hmac
from typing import Literal

from advisor.config import Audience, Settings

Role = Literal["anonymous", "prospect", "consultant", "admin"]

# Only ever honoured when ADVISOR_ENVIRONMENT=development and no keys are configured.
DEV_KEYS: dict[str, Role] = {"dev-consultant-key": "consultant", "dev-admin-key": "admin"}


def configured_keys(settings: Settings) -> dict[str, Role]:
    if settings.api_keys:
        return dict(settings.api_keys)
    return dict(DEV_KEYS) if settings.environment == "development" else {}


class UnknownKey(PermissionError):
    """An API key that matches no role."""


def resolve_role(key: str | None, settings: Settings) -> Role:
    """The role for a key, compared in constant time; no key means anonymous."""
    if not key:
        return "anonymous"
    found: Role | None = None
    for candidate, role in configured_keys(settings).items():
        if hmac.compare_digest(candidate.encode(), key.encode()):
            found = role
    if found is None:
        raise UnknownKey("unknown API key: check the key, or call without one for public answers")
    return found


def audience_for(role: Role) -> Audience:
    return "internal" if role in ("consultant", "admin") else "public"


def can_admin(role: Role) -> bool:
    return role == "admin"
