"""Form values → the advisor's arguments: dates, filters, lead details. No Gradio here."""

from __future__ import annotations

import re
from datetime import date

from advisor.advisor import InputError
from advisor.config import Audience
from advisor.retrieve import REGIONS, Filters

THERAPY_AREAS = ("oncology", "immunology", "cardiometabolic", "neurology", "infectious-disease", "ophthalmology",
                 "rare-disease", "respiratory", "haematology", "dermatology")
REGION_CHOICES = tuple(r for r in REGIONS if r != "Global")
DOC_TYPES = ("article", "briefing", "guide", "playbook", "meeting-notes", "assessment", "policy", "report", "deal")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_day(text: str | None, label: str) -> int | None:
    """A YYYY-MM-DD date as the integer YYYYMMDD the index stores; blank means no bound."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{label} should look like 2025-01-31, not {text!r}") from None
    return day.year * 10_000 + day.month * 100 + day.day


def split_list(text: str | None) -> tuple[str, ...]:
    """Comma- or semicolon-separated names, trimmed, blanks dropped."""
    return tuple(part.strip() for part in re.split(r"[,;]", text or "") if part.strip())


def consultant_filters(*, date_from: str | None, date_to: str | None, companies: str | None,
                       therapy_areas: list[str] | None, doc_types: list[str] | None,
                       include_internal: bool, regions: list[str] | None = None) -> tuple[Audience, Filters]:
    """The audience and filters a consultant's form asks for."""
    start, end = parse_day(date_from, "The 'from' date"), parse_day(date_to, "The 'to' date")
    if start and end and start > end:
        raise InputError("The 'from' date is after the 'to' date: swap them or clear one")
    audience: Audience = "internal" if include_internal else "public"
    return audience, Filters(audience=audience, date_from=start, date_to=end, companies=split_list(companies),
                             therapy_areas=tuple(therapy_areas or ()), doc_types=tuple(doc_types or ()),
                             regions=tuple(regions or ()))


def check_lead(*, name: str, email: str, consent: bool) -> None:
    """Refuse a contact request that a consultant could not act on, saying what is missing."""
    if not name.strip():
        raise InputError("Please tell us your name")
    if not _EMAIL.match(email.strip()):
        raise InputError("Please give an email address we can reply to, like jane@company.com")
    if not consent:
        raise InputError("Please tick the consent box so that we may store your details and contact you")
