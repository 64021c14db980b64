"""Suites over public datasets: each `fn(settings, *, sample, cache_dir, datasets_dir, with_baseline=True,
calibration="questions"|"documents") -> dict`.

Every suite returns {"suite", "status": "ok"|"skipped", "reason", "sample", "n_queries", "systems": {name:
{metric: float}}, "notes": [...]} plus "per_query" detail, and skips with a message naming the missing path when
its dataset is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evals.suites import cuad, multihop, pubmedqa, scifact, squad_v2
from evals.suites.common import default_datasets_dir

Suite = Callable[..., dict[str, Any]]

SUITES: dict[str, Suite] = {
    "scifact": scifact.run,
    "cuad": cuad.run,
    "cuad_pdf": cuad.run_pdf,
    "multihop": multihop.run,
    "squad_v2": squad_v2.run,
    "pubmedqa": pubmedqa.run,
}

__all__ = ["SUITES", "Suite", "default_datasets_dir"]
