"""Prompt and message templates live as files under prompts/; rendered with StrictUndefined."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "prompts"


@lru_cache(maxsize=8)
def _environment(directory: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory), undefined=jinja2.StrictUndefined,
        autoescape=False, keep_trailing_newline=False, trim_blocks=True, lstrip_blocks=True,
    )


def render(name: str, directory: Path = DEFAULT_DIR, **variables: object) -> str:
    if not (directory / name).is_file():
        raise FileNotFoundError(f"prompt template {name} not found in {directory}: set ADVISOR_PROMPTS_DIR")
    return _environment(str(directory)).get_template(name).render(**variables).strip()
