"""Compare two runs: per-metric deltas per system, and the in-house questions that flipped pass ↔ fail.

A question passes when it is correct (all required facts for an answerable question, a refusal for an
unanswerable one) and does not leak. Questions present in only one run are listed, not compared. With splits
(`--split dev,test`), each system is compared within each split, over that split's questions only; a record
written before splits existed gets its split from the rule (`runner.split_of`) applied to the current set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.report import METRICS, RESULTS, fmt
from evals.runner import aggregate, aggregate_by_type, record_split


@dataclass
class SystemDiff:
    system: str
    split: str = "all"  # the split compared, or "all": the whole runs
    deltas: list[tuple[str, Any, Any, float | None]] = field(default_factory=list)  # (metric, a, b, b - a)
    by_type: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # type -> (correct in a, correct in b)
    broke: list[str] = field(default_factory=list)  # passed in A, failed in B
    fixed: list[str] = field(default_factory=list)  # failed in A, passed in B
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)
    common: int = 0  # questions both runs hold; when the sets differ, metrics are recomputed over these only


def load_results(path: Path) -> dict[str, Any]:
    file = path / RESULTS if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"{file} not found: give a folder `python -m evals run` wrote, or its {RESULTS}")
    return json.loads(file.read_text(encoding="utf-8"))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def compare(a: dict[str, Any], b: dict[str, Any], *, split: str | None = None) -> list[SystemDiff]:
    """One diff per system present in both runs' in-house results; with `split`, over that split's records."""
    sys_a = (a.get("inhouse") or {}).get("systems", {})
    sys_b = (b.get("inhouse") or {}).get("systems", {})
    diffs = []
    for name in [s for s in sys_a if s in sys_b]:
        diff = SystemDiff(name, split or "all")
        recs_a, recs_b = sys_a[name]["records"], sys_b[name]["records"]
        if split is not None:
            recs_a = [r for r in recs_a if record_split(r) == split]
            recs_b = [r for r in recs_b if record_split(r) == split]
            if not recs_a and not recs_b:
                continue
        ra = {r["id"]: bool(r.get("passed")) for r in recs_a}
        rb = {r["id"]: bool(r.get("passed")) for r in recs_b}
        shared = set(ra) & set(rb)
        diff.common = len(shared)
        if split is None and set(ra) == set(rb):
            oa, ob = sys_a[name]["overall"], sys_b[name]["overall"]
            ta, tb = sys_a[name]["by_type"], sys_b[name]["by_type"]
        else:  # a split, or different question sets: compare like with like
            kept_a = [r for r in recs_a if r["id"] in shared]
            kept_b = [r for r in recs_b if r["id"] in shared]
            oa, ob = aggregate(kept_a), aggregate(kept_b)
            ta, tb = aggregate_by_type(kept_a), aggregate_by_type(kept_b)
        for key, _, _ in METRICS:
            va, vb = _number(oa.get(key)), _number(ob.get(key))
            diff.deltas.append((key, oa.get(key), ob.get(key), vb - va if va is not None and vb is not None else None))
        for t in dict.fromkeys([*ta, *tb]):
            diff.by_type[t] = (ta.get(t, {}).get("correct"), tb.get(t, {}).get("correct"))
        diff.broke = sorted(q for q in ra if q in rb and ra[q] and not rb[q])
        diff.fixed = sorted(q for q in ra if q in rb and not ra[q] and rb[q])
        diff.only_a = sorted(set(ra) - set(rb))
        diff.only_b = sorted(set(rb) - set(ra))
        diffs.append(diff)
    return diffs


def suite_deltas(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str, str, float, float]]:
    """(suite, system, metric, a, b) for every numeric suite metric both runs have."""
    out = []
    suites_b = {s["suite"]: s for s in b.get("suites", []) if s.get("status") == "ok"}
    for sa in a.get("suites", []):
        sb = suites_b.get(sa["suite"])
        if sa.get("status") != "ok" or sb is None:
            continue
        for system, metrics in sa.get("systems", {}).items():
            for metric, va in metrics.items():
                vb = sb.get("systems", {}).get(system, {}).get(metric)
                if _number(va) is not None and _number(vb) is not None:
                    out.append((sa["suite"], system, metric, float(va), float(vb)))
    return out


def render(diffs: list[SystemDiff], suites: list[tuple[str, str, str, float, float]], label_a: str,
           label_b: str) -> str:
    kinds = {key: kind for key, _, kind in METRICS}
    lines = [f"# Compare: A = {label_a}  →  B = {label_b}", ""]
    if not diffs and not suites:
        lines.append("No system or suite appears in both runs.")
    for diff in diffs:
        lines += [f"## {diff.system}" + ("" if diff.split == "all" else f" — {diff.split}"), ""]
        if diff.only_a or diff.only_b:
            lines += [f"The runs hold different questions: metrics below are over the {diff.common} both hold.", ""]
        lines += ["| metric | A | B | B − A |", "|---|---|---|---|"]
        for key, va, vb, d in diff.deltas:
            kind = kinds[key]
            unit = " ms" if kind == "ms" else ""
            delta = "—" if d is None else (f"{100 * d:+.1f} pt" if kind == "rate" else f"{d:+,.0f}{unit}")
            lines.append(f"| {key} | {fmt(va, kind)} | {fmt(vb, kind)} | {delta} |")
        lines += ["", "Correct by type: " + "; ".join(f"{t} {fmt(x)} → {fmt(y)}" for t, (x, y) in diff.by_type.items()),
                  "", f"pass → fail ({len(diff.broke)}): {', '.join(diff.broke) or 'none'}",
                  f"fail → pass ({len(diff.fixed)}): {', '.join(diff.fixed) or 'none'}"]
        if diff.only_a or diff.only_b:
            lines.append(f"only in A: {len(diff.only_a)}; only in B: {len(diff.only_b)} (not compared)")
        lines.append("")
    if suites:
        lines += ["## Suites", "", "| suite | system | metric | A | B | B − A |", "|---|---|---|---|---|---|"]
        lines += [f"| {s} | {sy} | {m} | {va:.4g} | {vb:.4g} | {vb - va:+.4g} |" for s, sy, m, va, vb in suites]
    return "\n".join(lines) + "\n"


def compare_paths(path_a: Path, path_b: Path, *, splits: list[str] | None = None) -> str:
    """The comparison as Markdown: the whole runs, or with `splits` one section per system and split."""
    a, b = load_results(path_a), load_results(path_b)
    diffs = compare(a, b) if splits is None else [d for split in splits for d in compare(a, b, split=split)]
    text = render(diffs, suite_deltas(a, b), str(path_a), str(path_b))
    absent = [s for s in splits or [] if not any(d.split == s for d in diffs)]
    return text + "".join(f"\nSplit {s}: no question of it in either run.\n" for s in absent)
