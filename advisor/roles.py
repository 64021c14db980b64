"""Who is asking: API keys map to roles. Anonymous and prospects see public sources only."""

from __future__ import annotations

import hmac
import secrets
from typing import Literal

from advisor.config import Audience, Settings

Role = Literal["anonymous", "prospect", "consultant", "admin"]

LOOPBACK = "127.0.0.1"


def configured_keys(settings: Settings) -> dict[str, Role]:
    return dict(settings.api_keys)


def with_keys(settings: Settings) -> tuple[Settings, str | None]:
    """Settings a server may start with, and the key generated for this run (None when keys are configured).

    No key is ever published: a development server started without ADVISOR_API_KEYS gets a random consultant key
    for this run only, shown once on its console, and listens on loopback alone. Production without keys is refused.
    """
    if settings.api_keys:
        return settings, None
    if settings.environment == "production":
        raise ValueError("production needs API keys: set ADVISOR_API_KEYS='{\"<24+ random characters>\": "
                         "\"consultant\"}' (python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    key = secrets.token_urlsafe(24)
    return settings.model_copy(update={"api_keys": {key: "consultant"}, "host": LOOPBACK}), key


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
