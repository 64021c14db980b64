"""python -m evals: run the in-house set and public suites, compare two runs, re-render a report.

    python -m evals run [--split dev,test,new_user --sample N --seed S --types T,T --systems advisor,baseline
                         --suites scifact,cuad --suite-sample N --out DIR]
    python -m evals compare A B [--split dev,test]
    python -m evals report DIR
    python -m evals harvest [--records PATH --out evals/sets/regressions.jsonl]
    python -m evals leaks [--styles S,S --topics-per-doc N --embedder minilm|hash --out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import logging
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal

REPO = Path(__file__).resolve().parents[1]
CORPUS = [REPO / "corpus" / "articles", REPO / "corpus" / "deals", REPO / "corpus" / "docs"]
SYSTEM_ALIASES = {"advisor": "advisor", "ours": "advisor", "baseline": "naive-baseline",
                  "naive-baseline": "naive-baseline"}

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("ANONYMIZED_TELEMETRY", "False"),
                      ("GRADIO_ANALYTICS_ENABLED", "False")):
    os.environ.setdefault(_name, _value)


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def run_metadata(settings: Any, advisor: Any, args: argparse.Namespace, questions_file: Path) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        "run_id": now.strftime("%Y%m%d-%H%M%S"), "date": now.isoformat(timespec="seconds"),
        "git_commit": _git("rev-parse", "HEAD"), "git_dirty": bool(_git("status", "--porcelain", "--", "advisor",
                                                                         "evals", "prompts", "corpus")),
        "python": platform.python_version(), "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "question_set": str(questions_file.relative_to(REPO)) if questions_file.is_relative_to(REPO)
        else str(questions_file),
        "question_set_sha256": hashlib.sha256(questions_file.read_bytes()).hexdigest()[:16],
        "settings": {"embedder": settings.embedder, "embedder_path": str(settings.embedder_path or "packaged"),
                     "generator": getattr(settings, "generator", "?"), "top_k": settings.top_k,
                     "candidates": settings.candidates, "rrf_k": settings.rrf_k,
                     "answer_max_sentences": settings.answer_max_sentences,
                     "gate_threshold": advisor.gate.threshold, "gate_source": advisor.gate.source,
                     "data_dir": str(settings.data_dir)},
        "args": {k: v for k, v in vars(args).items() if k != "func"},
    }


def build_systems(names: list[str], advisor: Any, cache_dir: Path,
                  writer: Literal["llm", "extractive"] | None = None) -> list[Any]:
    from evals.system import AdvisorSystem

    systems: list[Any] = []
    for raw in names:
        name = SYSTEM_ALIASES.get(raw)
        if name is None:
            raise SystemExit(f"unknown system {raw!r}: choose from advisor, baseline")
        if name == "advisor":
            systems.append(AdvisorSystem(advisor, writer=writer))
        else:
            try:
                from evals.baseline import baseline_for
            except ImportError as exc:
                raise SystemExit(f"the naive baseline is not available ({exc}): run with --systems advisor") from exc
            systems.append(baseline_for(advisor, cache_dir / "naive-baseline"))
    return systems


def cmd_run(args: argparse.Namespace) -> int:
    from advisor.advisor import Advisor
    from advisor.config import load_settings
    from evals import report, runner

    started = time.perf_counter()
    questions, selection = ([], {}) if args.skip_inhouse else inhouse_questions(args)  # bad arguments fail fast
    overrides = {"data_dir": Path(args.data_dir)} if args.data_dir else {}
    settings = load_settings(args.config, **overrides)
    advisor = Advisor.from_settings(settings)
    if not args.no_ingest:
        ingest = advisor.ingest(CORPUS)
        if not ingest.ok:
            print(f"warning: corpus did not ingest cleanly: {ingest.failed[:3]} {ingest.record_errors[:3]}",
                  file=sys.stderr)
    advisor.warm_up()
    advisor.wait_warm()  # latency is reported warm, as a server answers once warmed up
    model = advisor.wait_for_model()
    if model is not None and model["state"] != "ready":
        raise SystemExit(f"the local model is not ready: {model['detail']}")
    cache_dir = Path(args.cache_dir) if args.cache_dir else settings.data_dir / "eval-cache"
    questions_file = Path(args.set)
    meta = run_metadata(settings, advisor, args, questions_file)
    out_dir = Path(args.out) if args.out else REPO / "evals" / "results" / meta["run_id"]
    results: dict[str, Any] = {"meta": meta, "inhouse": None, "suites": []}

    if not args.skip_inhouse:
        meta.update(selection)
        systems = build_systems(_csv(args.systems), advisor, cache_dir, args.writer)
        meta["systems"] = [s.name for s in systems]
        progress = (lambda line: print(line, file=sys.stderr)) if args.verbose else None
        results["inhouse"] = runner.run_inhouse(systems, questions, markers=runner.load_markers(),
                                                internal_docs=runner.internal_doc_ids(advisor), progress=progress)
    if args.suites:
        results["suites"] = run_suites(_csv(args.suites), settings, args, cache_dir)
        meta.setdefault("systems", list(dict.fromkeys(s for r in results["suites"] for s in r.get("systems", {}))))
    meta["wall_s"] = round(time.perf_counter() - started, 1)
    paths = report.write(results, out_dir)
    print(report.summary_markdown(results))
    print(f"\nwrote {paths['json']}, {paths['md'].name}, {paths['html'].name}", file=sys.stderr)
    return 0


def inhouse_questions(args: argparse.Namespace) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The questions `--split` (then `--types`, `--sample`) selects, and what the run metadata records of
    them (the splits' sizes, what was skipped, the new-user set's hash); a missing new-user set is skipped with
    a message."""
    from evals import runner

    try:
        splits = runner.parse_splits(args.split)
        pool, skipped = runner.load_splits(splits, qa_set=Path(args.set), new_user_set=Path(args.new_user_set),
                                           fresh_dev_set=Path(args.fresh_dev_set),
                                           regressions_set=Path(args.regressions_set))
        questions = runner.select(pool, sample=args.sample, seed=args.seed,
                                  types=_csv(args.types) if args.types else None)
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    for message in skipped:
        print(message, file=sys.stderr)
    if not questions:
        raise SystemExit(f"no questions selected (splits {', '.join(splits)}; types {args.types or 'all'})")
    counts = {s: sum(q["split"] == s for q in questions) for s in splits}
    info: dict[str, Any] = {"splits": {s: n for s, n in counts.items() if n}, "skipped": skipped,
                            "n_questions": len(questions)}
    for split, path in (("new_user", Path(args.new_user_set)), ("fresh_dev", Path(args.fresh_dev_set)),
                        ("regressions", Path(args.regressions_set))):
        if counts.get(split):
            info[f"{split}_set"] = str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)
            info[f"{split}_set_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return questions, info


def run_suites(names: list[str], settings: Any, args: argparse.Namespace, cache_dir: Path) -> list[dict[str, Any]]:
    try:
        from evals.suites import SUITES, default_datasets_dir
    except ImportError as exc:
        raise SystemExit(f"the public suites are not available ({exc})") from exc
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise SystemExit(f"unknown suites {unknown}: choose from {', '.join(SUITES)}")
    datasets = Path(args.datasets) if args.datasets else default_datasets_dir()
    with_baseline = any(SYSTEM_ALIASES.get(s) == "naive-baseline" for s in _csv(args.systems))
    out = []
    for name in names:
        t0 = time.perf_counter()
        print(f"suite {name}: running (sample {args.suite_sample or 'full'})", file=sys.stderr)
        result = SUITES[name](settings, sample=args.suite_sample, cache_dir=cache_dir / "suites",
                              datasets_dir=datasets, with_baseline=with_baseline,
                              calibration=args.suite_calibration)
        result.setdefault("wall_s", round(time.perf_counter() - t0, 1))
        print(f"suite {name}: {result['status']} {result.get('reason', '')}", file=sys.stderr)
        out.append(result)
    return out


def cmd_compare(args: argparse.Namespace) -> int:
    from evals.compare import compare_paths
    from evals.runner import parse_splits

    try:
        splits = parse_splits(args.split) if args.split else None
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    text = compare_paths(Path(args.a), Path(args.b), splits=splits)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


def cmd_leaks(args: argparse.Namespace) -> int:
    import json

    from evals.leaks import run as run_leaks

    result = run_leaks(styles=_csv(args.styles) or None, topics_per_doc=args.topics_per_doc, embedder=args.embedder)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result["git_commit"] = _git("rev-parse", "HEAD")
    (out / "leaks.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("requests", "leaks", "public_leaks", "forged_keys", "source_guesses",
                                             "topics", "seconds")}, indent=2))
    print(f"written to {out / 'leaks.json'}", file=sys.stderr)
    # a public leak fails the run; so does a control that found nothing (the detector would prove nothing)
    return 0 if result["public_leaks"] == 0 and result["leaks"].get("consultant", 0) > 0 else 1


def cmd_harvest(args: argparse.Namespace) -> int:
    from advisor.config import load_settings
    from advisor.records import Records, records_path
    from evals.harvest import harvest

    settings = load_settings(args.config)
    records = Records(Path(args.records) if args.records else records_path(settings))
    added = harvest(records, Path(args.out))
    for row in added:
        print(f"{row['id']}: {row['question']}")
    print(f"{len(added)} regression question(s) added to {args.out}", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from evals.report import rerender

    paths = rerender(Path(args.dir))
    print(f"wrote {paths['md']} and {paths['html']}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m evals", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="evaluate systems on the in-house set (and public suites)")
    run.add_argument("--split", default="all", help="comma-separated: dev, test (halves of the in-house set), "
                                                    "new_user (the new-user set), fresh_dev (the fresh dev set); "
                                                    "all = every one (default)")
    run.add_argument("--sample", type=int, default=None, help="a stratified seeded sample of N questions")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--types", default="", help="comma-separated question types (default: all)")
    run.add_argument("--systems", default="advisor,baseline", help="comma-separated: advisor, baseline")
    run.add_argument("--suites", default="",
                     help="comma-separated public suites: scifact, cuad, cuad_pdf, multihop, squad_v2, pubmedqa")
    run.add_argument("--suite-sample", type=int, default=None, help="queries per suite (default: the full suite)")
    run.add_argument("--suite-calibration", choices=["questions", "documents"], default="questions",
                     help="how each suite's index gets its gate threshold: on up to 100 of the suite's questions "
                          "held apart from the sample (as `advisor calibrate --labelled`), or from its documents "
                          "alone (as `advisor calibrate`); a full-suite run has no questions to hold apart")
    run.add_argument("--writer", choices=["llm", "extractive"], default=None,
                     help="who writes the answers when ADVISOR_GENERATOR names a model (default: the model)")
    run.add_argument("--skip-inhouse", action="store_true", help="run only the public suites")
    run.add_argument("--set", default=str(REPO / "evals" / "sets" / "advisor_qa.jsonl"),
                     help="the in-house set (the dev and test splits)")
    run.add_argument("--new-user-set", default=str(REPO / "evals" / "sets" / "new_user.jsonl"),
                     help="the new-user set (the new_user split; skipped with a message when absent)")
    run.add_argument("--fresh-dev-set", default=str(REPO / "evals" / "sets" / "fresh_dev.jsonl"),
                     help="the fresh dev set (the fresh_dev split; skipped with a message when absent)")
    run.add_argument("--regressions-set", default=str(REPO / "evals" / "sets" / "regressions.jsonl"),
                     help="consultants' accepted corrections (the regressions split; `python -m evals harvest`)")
    run.add_argument("--out", default="", help="output folder (default evals/results/<timestamp>)")
    run.add_argument("--data-dir", default="", help="advisor index folder (default: the settings' data_dir)")
    run.add_argument("--config", default=None, help="advisor settings TOML")
    run.add_argument("--cache-dir", default="", help="where baseline and suite indexes are cached "
                                                     "(default <data_dir>/eval-cache)")
    run.add_argument("--datasets", default="", help="public datasets folder (default ../shared/datasets)")
    run.add_argument("--no-ingest", action="store_true", help="use the index as it is (default: bring it up to date "
                                                              "with corpus/ first; an unchanged corpus embeds nothing)")
    run.add_argument("-v", "--verbose", action="store_true", help="one progress line per question")
    run.set_defaults(func=cmd_run)
    cmp = sub.add_parser("compare", help="per-metric deltas and flipped questions between two runs")
    cmp.add_argument("a")
    cmp.add_argument("b")
    cmp.add_argument("--split", default="", help="compare within these splits (comma-separated dev, test, new_user, "
                                                 "or all: one section per split); default: the whole runs")
    cmp.add_argument("--out", default="", help="also write the comparison to this file")
    cmp.set_defaults(func=cmd_compare)
    rep = sub.add_parser("report", help="re-render summary.md and report.html from a run's results.json")
    rep.add_argument("dir")
    rep.set_defaults(func=cmd_report)
    har = sub.add_parser("harvest", help="accepted corrections -> evals/sets/regressions.jsonl (the regressions "
                                         "split)")
    har.add_argument("--records", default="", help="the records database (default: the settings' records)")
    har.add_argument("--out", default=str(REPO / "evals" / "sets" / "regressions.jsonl"))
    har.add_argument("--config", default=None, help="advisor settings TOML")
    har.set_defaults(func=cmd_harvest)
    leaks = sub.add_parser("leaks", help="the adversarial leak suite against a live server (public roles must get "
                                         "nothing internal; the consultant control must)")
    leaks.add_argument("--styles", default="", help="comma-separated attack styles (default: all twelve)")
    leaks.add_argument("--topics-per-doc", type=int, default=3, help="title and section headings per internal doc")
    leaks.add_argument("--embedder", default="minilm", choices=["minilm", "hash"])
    leaks.add_argument("--out", default=str(REPO / "evals" / "results" / "leaks"))
    leaks.set_defaults(func=cmd_leaks)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
