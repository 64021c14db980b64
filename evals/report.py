"""Results on disk: results.json (everything), summary.md (the tables) and report.html (self-contained, offline)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from evals.svg import grouped_bars, histogram

RESULTS = "results.json"
# (key, label, kind): kind "rate" is shown as a percentage, "ms" as milliseconds, "count" as is
METRICS: tuple[tuple[str, str, str], ...] = (
    ("recall@5", "Recall@5", "rate"), ("recall@10", "Recall@10", "rate"), ("mrr", "MRR", "rate"),
    ("ndcg@10", "nDCG@10", "rate"), ("correct", "Correct", "rate"), ("fact_recall", "Fact recall", "rate"),
    ("citation_precision", "Citation precision", "rate"), ("citation_recall", "Citation recall", "rate"),
    ("refusal_precision", "Refusal precision", "rate"), ("refusal_recall", "Refusal recall", "rate"),
    ("evidence_auroc", "Evidence AUROC (gate score)", "count"), ("leakage_rate", "Leakage (public)", "rate"),
    ("passed", "Passed", "rate"),
    ("latency_p50_ms", "Latency p50", "ms"), ("latency_p95_ms", "Latency p95", "ms"),
    ("answer_words", "Answer length (words)", "count"),
    ("false_refusal", "False refusal (gold in top 3)", "rate"), ("fragment_rate", "Fragment sentences", "rate"),
    ("restatement_rate", "Restating the question", "rate"), ("meta_rate", "About the documents", "rate"),
    ("refused_by_gate", "Answerable refused by the gate", "count"),
    ("refused_by_check", "Answerable refused by a later check", "count"),
    ("answered_missing_facts", "Answerable answered without every fact", "count"),
    ("unanswerable_answered", "Unanswerable answered", "count"),
    ("correct_if_refusals_right", "Correct if every refusal decision were right", "rate"),
)
TYPE_COLUMNS = ("n", "recall@10", "mrr", "ndcg@10", "correct", "fact_recall", "citation_precision",
                "citation_recall", "refusal_precision", "refusal_recall", "leaks", "latency_p50_ms")
# the by-split-and-type tables: each metric once per split, side by side
SPLIT_TYPE_COLUMNS = ("n", "correct", "recall@10", "false_refusal", "fragment_rate", "restatement_rate", "meta_rate")
SHAPE_KEYS = ("false_refusal", "fragment_rate", "restatement_rate", "meta_rate")


def fmt(value: Any, kind: str = "rate") -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{100 * float(value):.1f}%"
    if kind == "ms":
        return f"{float(value):,.0f} ms"
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 10:
            return f"{value:,.0f}"
        return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def _kind(metric: str) -> str:
    for key, _, kind in METRICS:
        if key == metric:
            return kind
    if metric in ("n", "leaks", "errors", "refusals", "retrieval_leaks"):
        return "count"
    return "ms" if metric.endswith("_ms") else "count"


def _label(metric: str) -> str:
    return next((label for key, label, _ in METRICS if key == metric), metric)


SHORT = {"recall@10": "R@10", "false_refusal": "false refusal", "fragment_rate": "fragments",
         "restatement_rate": "restating", "meta_rate": "about docs", "correct": "correct"}


def by_split(system: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A system's aggregates per split: as the run stored them, or from its records (runs before splits)."""
    if "by_split" in system:
        return dict(system["by_split"])
    from evals.runner import aggregate_by_split, record_split

    return aggregate_by_split([r | {"split": record_split(r)} for r in system["records"]])


def _split_types(splits: dict[str, dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(t for v in splits.values() for t in v["by_type"]))


def _type_cell(split: dict[str, Any], qtype: str, metric: str) -> str:
    """A by-type cell of one split: blank when the split has no question of that type."""
    return fmt(split["by_type"][qtype].get(metric), _kind(metric)) if qtype in split["by_type"] else ""


def write(results: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / RESULTS, "md": out_dir / "summary.md", "html": out_dir / "report.html"}
    paths["json"].write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    paths["md"].write_text(summary_markdown(results), encoding="utf-8")
    paths["html"].write_text(html_report(results), encoding="utf-8")
    return paths


def rerender(out_dir: Path) -> dict[str, Path]:
    path = out_dir / RESULTS
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: give the folder a `python -m evals run` wrote")
    return write(json.loads(path.read_text(encoding="utf-8")), out_dir)


# Markdown ---------------------------------------------------------------------------------------------------
def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _split_counts(meta: dict[str, Any]) -> str:
    splits = meta.get("splits") or {}
    return " (" + ", ".join(f"{k} {v}" for k, v in splits.items()) + ")" if splits else ""


def summary_markdown(results: dict[str, Any]) -> str:
    meta = results.get("meta", {})
    out = [f"# Evaluation {meta.get('run_id', '')}", "",
           f"commit `{meta.get('git_commit', '?')}`{' (uncommitted changes)' if meta.get('git_dirty') else ''}, "
           f"{meta.get('date', '')}; {meta.get('n_questions', 0)} in-house questions{_split_counts(meta)}; "
           f"full run {meta.get('wall_s', '?')} s.", ""]
    inhouse = results.get("inhouse")
    if inhouse:
        systems = list(inhouse["systems"])
        out += ["## In-house set: overall", ""]
        rows = [[label] + [fmt(inhouse["systems"][s]["overall"].get(key), kind) for s in systems]
                for key, label, kind in METRICS]
        out += [_md_table(["metric", *systems], rows), ""]
        out += _split_markdown(inhouse)
        for s in systems:
            out += [f"## In-house set by type: {s}", ""]
            by_type = inhouse["systems"][s]["by_type"]
            rows = [[t] + [fmt(v.get(c), _kind(c)) for c in TYPE_COLUMNS] for t, v in by_type.items()]
            out += [_md_table(["type", *(_label(c) for c in TYPE_COLUMNS)], rows), ""]
        out += ["## Failed questions", ""]
        for s in systems:
            failed = [r for r in inhouse["systems"][s]["records"] if not r.get("passed")]
            out.append(f"- **{s}**: {len(failed)} — " + ", ".join(f"{r['id']} ({r['type']})" for r in failed))
        out.append("")
    for suite in results.get("suites", []):
        out += [f"## Suite: {suite['suite']}", ""]
        if suite.get("status") != "ok":
            out += [f"Skipped: {suite.get('reason', '')}", ""]
            continue
        out += [f"{suite.get('n_queries', 0)} queries (sample {suite.get('sample') or 'full'}).", ""]
        names = list(suite.get("systems", {}))
        metrics = list(dict.fromkeys(m for s in names for m in suite["systems"][s]))
        rows = [[m] + [fmt(suite["systems"][s].get(m), "count") for s in names] for m in metrics]
        out += [_md_table(["metric", *names], rows), ""]
        out += [f"- {note}" for note in suite.get("notes", [])] + [""]
    return "\n".join(out)


def _split_markdown(inhouse: dict[str, Any]) -> list[str]:
    """Dev, test and new-user side by side: every metric per system and split, then by type."""
    splits = {s: by_split(v) for s, v in inhouse["systems"].items()}
    columns = [(s, split) for s, v in splits.items() for split in v]
    if not columns:
        return []
    out = ["## By split: overall", "", "Rules are tuned on dev; test and new_user are reported, not read question "
           "by question.", ""]
    rows = [["questions"] + [str(splits[s][split]["overall"]["n"]) for s, split in columns]]
    rows += [[label] + [fmt(splits[s][split]["overall"].get(key), kind) for s, split in columns]
             for key, label, kind in METRICS]
    out += [_md_table(["metric", *(f"{s} {split}" for s, split in columns)], rows), ""]
    for s, per_split in splits.items():
        names = " / ".join(per_split)
        out += [f"## By split and type: {s}", ""]
        header = ["type"] + [f"{SHORT.get(c, c)} ({names})" for c in SPLIT_TYPE_COLUMNS]
        rows = [[t] + [" / ".join(_type_cell(per_split[split], t, c) or "·" for split in per_split)
                       for c in SPLIT_TYPE_COLUMNS] for t in _split_types(per_split)]
        out += [_md_table(header, rows), ""]
    return out


# HTML -------------------------------------------------------------------------------------------------------
CSS = """
*{box-sizing:border-box} body{margin:0;font:14px/1.5 -apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1b2430;
background:#f4f6f9} header{background:#14213d;color:#fff;padding:28px 40px 22px}
header h1{margin:0 0 4px;font-size:24px}
header .meta{color:#c5cedb;font-size:13px} main{max-width:1180px;margin:0 auto;padding:24px 32px 60px}
section{background:#fff;border:1px solid #e1e6ee;border-radius:8px;padding:20px 24px;margin:0 0 20px}
h2{font-size:18px;margin:0 0 12px} h3{font-size:15px;margin:18px 0 8px} .muted{color:#5b6675}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:13px}
th,td{padding:6px 8px;border-bottom:1px solid #edf0f4;text-align:right;white-space:nowrap}
th{white-space:normal;vertical-align:bottom} .wide{overflow-x:auto} .wide table{font-size:12px}
th:first-child,td:first-child{text-align:left} th{background:#f7f9fb;color:#3a4553;font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-bottom:8px}
.card{border:1px solid #e1e6ee;border-radius:8px;padding:12px 14px;background:#fbfcfe}
.card .v{font-size:22px;font-weight:650} .card .k{color:#5b6675;font-size:12px} .card .b{color:#5b6675;font-size:12px}
.up{color:#1a7f37} .down{color:#b42318} .tag{display:inline-block;padding:1px 7px;border-radius:10px;font-size:11px;
background:#eef2f7;color:#3a4553} details{margin:6px 0} summary{cursor:pointer;font-weight:600}
.fail td{vertical-align:top;white-space:normal;text-align:left} .fail td.ans{max-width:520px;color:#3a4553}
code{background:#f0f3f7;padding:1px 4px;border-radius:3px;font-size:12px} ul{margin:6px 0 0 18px;padding:0}
"""


LOWER_IS_BETTER = {"leakage_rate", "latency_p50_ms", "latency_p95_ms", *SHAPE_KEYS}


def _delta(ours: Any, theirs: Any, kind: str, key: str = "") -> str:
    """Ours minus theirs, green when ours is better (lower, for leakage and latency)."""
    if ours is None or theirs is None or kind not in ("rate", "ms"):
        return ""
    d = float(ours) - float(theirs)
    better = -d if key in LOWER_IS_BETTER else d
    text = f"{100 * d:+.1f} pt" if kind == "rate" else f"{d:+,.0f} ms"
    return f'<span class="{"up" if better > 0 else "down" if better < 0 else ""}">{text}</span>'


def _overall_section(inhouse: dict[str, Any]) -> str:
    systems = list(inhouse["systems"])
    ours = systems[0]
    overall = {s: inhouse["systems"][s]["overall"] for s in systems}
    cards = []
    for key in ("correct", "recall@10", "citation_precision", "refusal_recall", "leakage_rate", "latency_p50_ms"):
        kind = _kind(key)
        others = " · ".join(f"{s}: {fmt(overall[s].get(key), kind)}" for s in systems[1:])
        cards.append(f'<div class="card"><div class="k">{escape(_label(key))} — {escape(ours)}</div>'
                     f'<div class="v">{fmt(overall[ours].get(key), kind)}</div>'
                     f'<div class="b">{escape(others)}</div></div>')
    head = "".join(f"<th>{escape(s)}</th>" for s in systems)
    delta_head = f"<th>{escape(ours)} − {escape(systems[1])}</th>" if len(systems) > 1 else ""
    rows = []
    for key, label, kind in METRICS:
        cells = "".join(f"<td>{fmt(overall[s].get(key), kind)}</td>" for s in systems)
        delta = f"<td>{_delta(overall[ours].get(key), overall[systems[1]].get(key), kind, key)}</td>" \
            if len(systems) > 1 else ""
        rows.append(f"<tr><td>{escape(label)}</td>{cells}{delta}</tr>")
    n = overall[ours].get("n", 0)
    notes = "".join(f"<li>{escape(note)}</li>" for note in inhouse.get("notes", []))
    rate_keys = [k for k, _, kind in METRICS if kind == "rate" and k != "leakage_rate"]
    chart = grouped_bars([_label(k) for k in rate_keys],
                         {s: [overall[s].get(k) for k in rate_keys] for s in systems},
                         title="Overall: ours against the baseline (%)")
    return (f'<section><h2>In-house set — {n} questions</h2><div class="cards">{"".join(cards)}</div>'
            f'<table><tr><th>metric</th>{head}{delta_head}</tr>{"".join(rows)}</table>{chart}'
            f'<ul class="muted">{notes}</ul></section>')


def _by_type_section(inhouse: dict[str, Any]) -> str:
    systems = list(inhouse["systems"])
    types = list(inhouse["systems"][systems[0]]["by_type"])
    charts = []
    for key, title in (("correct", "Answer correctness by question type (%)"),
                       ("recall@10", "Retrieval recall@10 by question type (%)"),
                       ("citation_precision", "Citation precision by question type (%)")):
        charts.append(grouped_bars(types, {s: [inhouse["systems"][s]["by_type"].get(t, {}).get(key) for t in types]
                                           for s in systems}, title=title))
    tables = []
    for s in systems:
        by_type = inhouse["systems"][s]["by_type"]
        head = "".join(f"<th>{escape(_label(c))}</th>" for c in TYPE_COLUMNS)
        rows = "".join(f"<tr><td>{escape(t)}</td>"
                       + "".join(f"<td>{fmt(v.get(c), _kind(c))}</td>" for c in TYPE_COLUMNS) + "</tr>"
                       for t, v in by_type.items())
        tables.append(f'<h3>{escape(s)}</h3><div class="wide"><table><tr><th>type</th>{head}</tr>{rows}'
                      f'</table></div>')
    return f'<section><h2>By question type</h2>{"".join(charts)}{"".join(tables)}</section>'


def _split_section(inhouse: dict[str, Any]) -> str:
    """Dev, test and new-user side by side for each system: the metrics overall, a chart, then by type."""
    splits = {s: by_split(v) for s, v in inhouse["systems"].items()}
    columns = [(s, split) for s, v in splits.items() for split in v]
    if not columns:
        return ""
    systems_head = "".join(f'<th colspan="{len(v)}">{escape(s)}</th>' for s, v in splits.items())
    split_head = "".join(f"<th>{escape(split)}</th>" for _, split in columns)
    rows = ["<tr><td>questions</td>" + "".join(f"<td>{splits[s][split]['overall']['n']}</td>" for s, split in columns)
            + "</tr>"]
    rows += [f"<tr><td>{escape(label)}</td>" + "".join(
        f"<td>{fmt(splits[s][split]['overall'].get(key), kind)}</td>" for s, split in columns) + "</tr>"
        for key, label, kind in METRICS]
    chart_keys = ("correct", "recall@10", "citation_precision", *SHAPE_KEYS)
    chart = grouped_bars([_label(k) for k in chart_keys],
                         {f"{s} {split}": [splits[s][split]["overall"].get(k) for k in chart_keys]
                          for s, split in columns}, title="By split: correctness, retrieval and answer shape (%)")
    tables = []
    for s, per_split in splits.items():
        head1 = "".join(f'<th colspan="{len(per_split)}">{escape(_label(c))}</th>' for c in SPLIT_TYPE_COLUMNS)
        head2 = "".join(f"<th>{escape(split)}</th>" for _ in SPLIT_TYPE_COLUMNS for split in per_split)
        body = "".join(
            f"<tr><td>{escape(t)}</td>" + "".join(
                f"<td>{_type_cell(per_split[split], t, c)}</td>" for c in SPLIT_TYPE_COLUMNS for split in per_split)
            + "</tr>" for t in _split_types(per_split))
        tables.append(f'<h3>{escape(s)} by type</h3><div class="wide"><table><tr><th rowspan="2">type</th>{head1}'
                      f'</tr><tr>{head2}</tr>{body}</table></div>')
    return (f'<section><h2>Dev, test and new-user side by side</h2><p class="muted">Rules, weights and thresholds '
            f'are chosen on dev; test and new_user are reported, never read question by question to find rules. '
            f'Answer-shape rates are means over answered questions; false refusal is a rate over answerable ones.'
            f'</p><div class="wide"><table><tr><th rowspan="2">metric</th>{systems_head}</tr><tr>{split_head}</tr>'
            f'{"".join(rows)}</table></div>{chart}{"".join(tables)}</section>')


def _latency_section(inhouse: dict[str, Any]) -> str:
    samples = {s: [r["latency_ms"] for r in v["records"] if "latency_ms" in r] for s, v in inhouse["systems"].items()}
    chart = histogram(samples, title="Answer latency per question (log-spaced bins)")
    notes = "".join(f"<li>{escape(s)}: p50 {fmt(v['overall'].get('latency_p50_ms'), 'ms')}, p95 "
                    f"{fmt(v['overall'].get('latency_p95_ms'), 'ms')}; whole run {v.get('wall_s', '?')} s</li>"
                    for s, v in inhouse["systems"].items())
    return f'<section><h2>Latency</h2>{chart}<ul class="muted">{notes}</ul></section>'


def _failures_section(inhouse: dict[str, Any]) -> str:
    blocks = []
    for s, v in inhouse["systems"].items():
        failed = [r for r in v["records"] if not r.get("passed")]
        rows = []
        for r in failed:
            why = []
            if r.get("error"):
                why.append(f"error: {r['error']}")
            if r.get("leak"):
                why.append("leak: " + "; ".join(r.get("leak_reasons", [])))
            if not r["answerable"] and not r.get("refused"):
                why.append("should have refused")
            if r["answerable"] and r.get("refused"):
                why.append("refused an answerable question")
            elif r.get("facts_missing"):
                why.append("missing: " + ", ".join(r["facts_missing"]))
            answer = (r.get("answer") or "")[:420]
            split = f' <span class="tag">{escape(r["split"])}</span>' if r.get("split") else ""
            rows.append(f'<tr><td><code>{escape(r["id"])}</code><br><span class="tag">{escape(r["type"])}</span> '
                        f'<span class="tag">{escape(r["audience"])}</span>{split}</td><td>{escape(r["question"])}</td>'
                        f'<td>{escape("; ".join(why))}</td><td class="ans">{escape(answer)}</td></tr>')
        blocks.append(f"<details><summary>{escape(s)}: {len(failed)} of {len(v['records'])} questions failed"
                      f"</summary><table class=\"fail\"><tr><th>id</th><th>question</th><th>why</th><th>answer "
                      f"(start)</th></tr>{''.join(rows)}</table></details>")
    return f'<section><h2>Questions that failed</h2>{"".join(blocks)}</section>'


def _suites_section(suites: list[dict[str, Any]]) -> str:
    parts = []
    for suite in suites:
        name = suite["suite"]
        if suite.get("status") != "ok":
            parts.append(f"<h3>{escape(name)}</h3><p class=\"muted\">Skipped: {escape(suite.get('reason', ''))}</p>")
            continue
        systems = list(suite.get("systems", {}))
        metrics = list(dict.fromkeys(m for s in systems for m in suite["systems"][s]))
        head = "".join(f"<th>{escape(s)}</th>" for s in systems)
        rows = "".join(f"<tr><td>{escape(m)}</td>" + "".join(
            f"<td>{fmt(suite['systems'][s].get(m), 'count')}</td>" for s in systems) + "</tr>" for m in metrics)
        scores = [m for m in metrics if not m.endswith(("_ms", "_s")) and all(
            isinstance(suite["systems"][s].get(m), int | float) and 0 <= suite["systems"][s][m] <= 1 for s in systems)]
        chart = grouped_bars(scores, {s: [suite["systems"][s].get(m) for m in scores] for s in systems},
                             title=f"{name}: ours against the baseline (%)") if scores else ""
        notes = "".join(f"<li>{escape(str(n))}</li>" for n in suite.get("notes", []))
        parts.append(f"<h3>{escape(name)} <span class=\"tag\">{suite.get('n_queries', 0)} queries, sample "
                     f"{suite.get('sample') or 'full'}</span></h3>{chart}<table><tr><th>metric</th>{head}</tr>{rows}"
                     f"</table><ul class=\"muted\">{notes}</ul>")
    return f'<section><h2>Public suites</h2>{"".join(parts)}</section>' if parts else ""


def _meta_section(meta: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{escape(str(k))}</td><td style=\"text-align:left;white-space:normal\">"
                   f"{escape(json.dumps(v) if isinstance(v, dict | list) else str(v))}</td></tr>"
                   for k, v in meta.items())
    return f'<section><h2>Run</h2><table>{rows}</table></section>'


def html_report(results: dict[str, Any]) -> str:
    meta = results.get("meta", {})
    inhouse = results.get("inhouse")
    body = []
    if inhouse:
        body += [_overall_section(inhouse), _split_section(inhouse), _by_type_section(inhouse),
                 _latency_section(inhouse), _failures_section(inhouse)]
    body.append(_suites_section(results.get("suites", [])))
    body.append('<section><h2>What the metrics mean</h2><p class="muted">Definitions, the support check and its '
                'measured accuracy are in <code>evals/README.md</code>. Retrieval metrics cover answerable questions '
                'only; refusal precision/recall treat <code>covered = false</code> as a refusal; leakage counts public '
                'questions whose answer cites an internal document or contains an internal marker phrase. '
                '"—" means the metric is undefined for that group.</p></section>')
    body.append(_meta_section(meta))
    dirty = " · uncommitted changes" if meta.get("git_dirty") else ""
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>advisor evaluation "
            f"{escape(str(meta.get('run_id', '')))}</title><meta name=\"viewport\" content=\"width=device-width\">"
            f"<style>{CSS}</style></head><body><header><h1>advisor — evaluation report</h1><div class=\"meta\">"
            f"{escape(str(meta.get('date', '')))} · commit {escape(str(meta.get('git_commit', '?'))[:12])}{dirty} · "
            f"systems: {escape(', '.join(meta.get('systems', [])))}</div></header><main>{''.join(body)}</main>"
            f"</body></html>")
