"""Front matter and sidecar metadata, normalised to what the index stores."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from advisor.text import company_key
from advisor.types import MetaValue

LIST_FIELDS = ("topics", "regions", "companies", "therapy_areas")
SIDECAR_SUFFIX = ".meta.yaml"


class LoadError(Exception):
    """A file that cannot be ingested; the message names the file and says what was wrong."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


# A text file with more than this share of control characters (other than tab, newlines and form feed) is a binary
# file that happens to decode: refused, not indexed as a document of noise.
MAX_CONTROL_SHARE = 0.01
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def read_text(path: Path) -> str:
    """A text file's contents as UTF-8, or a LoadError that says what is wrong with it."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(path, f"not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    controls = len(_CONTROLS.findall(text))
    if "\x00" in text or controls > MAX_CONTROL_SHARE * max(1, len(text)):
        raise LoadError(path, f"looks like a binary file, not text ({controls} control characters); give it the "
                              "extension of its real format, or remove it")
    return text


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "doc"


def parse_date(value: Any, path: Path | str, field: str = "published") -> int:
    """A date as an integer YYYYMMDD (Chroma filters compare numbers); 0 when absent."""
    if value in (None, ""):
        return 0
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.year * 10000 + value.month * 100 + value.day
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d", "%Y-%m", "%Y"):
        try:
            parsed = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return parsed.year * 10000 + parsed.month * 100 + parsed.day
    raise LoadError(path, f"{field} {text!r} is not a date: write it as YYYY-MM-DD")


def date_str(yyyymmdd: int) -> str:
    if not yyyymmdd:
        return ""
    return f"{yyyymmdd // 10000:04d}-{yyyymmdd // 100 % 100:02d}-{yyyymmdd % 100:02d}"


def read_sidecar(path: Path) -> dict[str, Any]:
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return {}
    return parse_yaml(sidecar.read_text(encoding="utf-8"), sidecar)


def parse_yaml(text: str, path: Path | str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise LoadError(path, f"front matter is not valid YAML{where}: {exc}") from exc
    if not isinstance(data, dict):
        raise LoadError(path, "front matter must be a YAML mapping of field: value")
    return data


def _as_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [v for v in re.split(r"[,;]", value)]
    return [str(v).strip() for v in value if str(v).strip()]


def normalise(raw: dict[str, Any], path: Path, *, default_title: str, default_type: str) -> dict[str, MetaValue]:
    """The metadata every chunk carries. A document not marked public is internal (the safe default)."""
    urls = _as_list(raw.get("source_urls") or raw.get("source_url") or raw.get("url"))
    audience = str(raw.get("audience", "")).strip().lower()
    meta: dict[str, MetaValue] = {
        "title": str(raw.get("title") or default_title).strip(),
        "source_url": urls[0] if urls else "",
        "publisher": str(raw.get("publisher") or "").strip(),
        "published": parse_date(raw.get("published") or raw.get("date"), path),
        "audience": "public" if audience == "public" else "internal",
        "doc_type": str(raw.get("doc_type") or default_type).strip().lower(),
    }
    if len(urls) > 1:
        meta["source_urls"] = urls
    for name in LIST_FIELDS:
        values = _as_list(raw.get(name))
        if values:
            meta[name] = [v.lower() for v in values]
            if name == "companies":
                meta["company_keys"] = sorted({company_key(v) for v in values})
    if raw.get("supersedes"):
        meta["supersedes"] = str(raw["supersedes"]).strip()
    return meta
