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
        auto_reload=False,  # read once per process: no file stat on every answer (restart to pick up edits)
    )


def render(name: str, directory: Path = DEFAULT_DIR, **variables: object) -> str:
    try:
        template = _environment(str(directory)).get_template(name)
    except jinja2.TemplateNotFound as exc:
        raise FileNotFoundError(f"prompt template {name} not found in {directory}: set ADVISOR_PROMPTS_DIR") from exc
    return template.render(**variables).strip()
