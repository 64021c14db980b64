"""`advisor corpus check`: the corpus's own rules, enforced (front matter, deal rows, URLs, duplicates,
and no sentence copied from the seed articles)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.ingest.deals import COUNTRIES, read_deals
from advisor.ingest.loaders import load_deal_file
from advisor.ingest.meta import LoadError, parse_yaml
from advisor.text import words

TOPICS = frozenset("""china-licensing deal-structuring notable-deals newco ai-partnerships ip-data-governance
due-diligence biosecure trade-policy japan korea singapore australia geopolitical-risk commercialisation
modalities obesity oncology immunology cell-gene-therapy market-trends consulting-practice""".split())
REGIONS = frozenset(COUNTRIES) | {"Europe", "Global"}
DOC_TYPES = frozenset(["article", "briefing", "guide", "playbook", "meeting-notes", "assessment", "policy"])
THERAPY_AREAS = frozenset("""oncology immunology cardiometabolic neurology infectious-disease ophthalmology
rare-disease respiratory haematology dermatology other""".split())
URL = re.compile(r"^https?://[a-z0-9.-]+\.[a-z]{2,}(/[^\s]*)?$", re.I)
SHARED_WORDS = 9  # a shared run of 9 words means a sentence longer than 8 words was copied
_FRONT = re.compile(r"^---[ \t]*\n(.*?)\n---[ \t]*\n", re.S)


@dataclass
class CorpusCheck:
    problems: list[str] = field(default_factory=list)
    articles: list[dict[str, Any]] = field(default_factory=list)
    deals: list[Any] = field(default_factory=list)
    words: dict[str, int] = field(default_factory=dict)


def _default_seeds() -> Path | None:
    for candidate in (Path("../shared/seeds"), Path(__file__).resolve().parents[2] / "shared" / "seeds"):
        if candidate.is_dir():
            return candidate
    return None


def _check_article(path: Path, problems: list[str]) -> tuple[dict[str, Any], str] | None:
    text = path.read_text(encoding="utf-8")
    match = _FRONT.match(text)
    if not match:
        problems.append(f"{path}: no YAML front matter (a '---' block at the top)")
        return None
    try:
        meta = parse_yaml(match.group(1), path)
    except LoadError as exc:
        problems.append(str(exc))
        return None
    body = text[match.end():]
    where = str(path)
    for name in ("id", "title", "publisher"):
        if not isinstance(meta.get(name), str) or not meta[name].strip():
            problems.append(f"{where}: `{name}` must be a non-empty string")
    if meta.get("id") != path.stem:
        problems.append(f"{where}: id {meta.get('id')!r} must equal the file name {path.stem!r}")
    published = meta.get("published")
    if not isinstance(published, dt.date) or not dt.date(2019, 1, 1) <= published <= dt.date.today():
        problems.append(f"{where}: published {published!r} must be a date YYYY-MM-DD, 2019 to today")
    if meta.get("audience") not in ("public", "internal"):
        problems.append(f"{where}: audience must be 'public' or 'internal', got {meta.get('audience')!r}")
    if meta.get("doc_type", "article") not in DOC_TYPES:
        problems.append(f"{where}: doc_type {meta.get('doc_type')!r} not in {sorted(DOC_TYPES)}")
    urls = meta.get("source_urls")
    if not isinstance(urls, list) or not urls:
        problems.append(f"{where}: source_urls must be a non-empty list")
    else:
        problems.extend(f"{where}: source URL {u!r} is not a well-formed http(s) URL"
                        for u in urls if not URL.match(str(u)))
    for name, allowed in (("topics", TOPICS), ("regions", REGIONS), ("therapy_areas", THERAPY_AREAS)):
        values = meta.get(name, [] if name == "therapy_areas" else None)
        if not isinstance(values, list) or (name == "topics" and not values):
            problems.append(f"{where}: `{name}` must be a list")
            continue
        problems.extend(f"{where}: {name[:-1].replace('_', ' ')} {v!r} is not in the fixed list"
                        for v in values if v not in allowed)
    if not isinstance(meta.get("companies", []), list):
        problems.append(f"{where}: `companies` must be a list")
    return meta, body


def _grams(text: str) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i:i + SHARED_WORDS]) for i in range(len(w) - SHARED_WORDS + 1)}


def check_corpus(root: Path, seeds_dir: Path | None = None) -> CorpusCheck:
    result = CorpusCheck()
    problems = result.problems
    bodies: dict[str, str] = {}
    seen_ids: dict[str, Path] = {}
    for path in sorted((root / "articles").glob("*.md")) + sorted((root / "docs_src").glob("*.md")):
        checked = _check_article(path, problems)
        if checked is None:
            continue
        meta, body = checked
        if meta.get("id") in seen_ids:
            problems.append(f"{path}: id {meta['id']!r} already used by {seen_ids[meta['id']]}")
        seen_ids[meta.get("id", path.stem)] = path
        if meta.get("supersedes") and not (root / "articles" / f"{meta['supersedes']}.md").is_file():
            problems.append(f"{path}: supersedes {meta['supersedes']!r}, which is not an article here")
        if path.parent.name == "articles":
            result.articles.append(meta)
        bodies[str(path)] = body
        result.words[str(path)] = len(body.split())
    # duplicated articles: the same text twice, or most of it
    shingles = {p: _grams(b) for p, b in bodies.items()}
    names = sorted(shingles)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            small = min(len(shingles[a]), len(shingles[b])) or 1
            if len(shingles[a] & shingles[b]) / small > 0.5:
                problems.append(f"{b}: duplicates most of {a}")
    # deals
    deal_ids: dict[str, str] = {}
    for path in sorted((root / "deals").glob("*.csv")) + sorted((root / "deals").glob("*.jsonl")):
        try:
            _, errors = load_deal_file(path)
        except LoadError as exc:
            problems.append(str(exc))
            continue
        problems.extend(errors)
        for deal in read_deals(path):
            if deal.deal_id in deal_ids:
                problems.append(f"{path}: deal_id {deal.deal_id} also in {deal_ids[deal.deal_id]}")
            deal_ids[deal.deal_id] = str(path)
            if not URL.match(deal.source_url):
                problems.append(f"{path}: {deal.deal_id} source_url {deal.source_url!r} is not well formed")
            result.deals.append(deal)
    # copied sentences
    seeds = seeds_dir or _default_seeds()
    if seeds is not None and seeds.is_dir():
        seed_grams: set[tuple[str, ...]] = set()
        for seed in seeds.glob("*.txt"):
            seed_grams |= _grams(seed.read_text(encoding="utf-8", errors="ignore"))
        texts = dict(bodies)
        for path in sorted(root.rglob("*")):
            if path.suffix in (".csv", ".html", ".txt", ".yaml", ".py") and path.is_file():
                texts[str(path)] = path.read_text(encoding="utf-8", errors="ignore")
        for name, text in texts.items():
            shared = _grams(text) & seed_grams
            if shared:
                problems.append(f"{name}: shares a run of {SHARED_WORDS}+ words with a seed article: "
                                f"{' '.join(sorted(shared)[0])!r}; rewrite it in our own words")
    return result


def format_summary(result: CorpusCheck) -> str:
    arts = result.articles
    lines = [f"articles: {len(arts)}; deal records: {len(result.deals)}; problems: {len(result.problems)}"]

    def counts(label: str, counter: Counter[Any]) -> None:
        lines.append(f"{label}: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.items(), key=str)))

    counts("articles by audience", Counter(a.get("audience") for a in arts))
    counts("articles by year", Counter(getattr(a.get("published"), "year", "?") for a in arts))
    counts("articles by topic", Counter(t for a in arts for t in a.get("topics") or []))
    counts("articles by doc_type", Counter(a.get("doc_type", "article") for a in arts))
    counts("deals by type", Counter(d.deal_type for d in result.deals))
    counts("deals by year", Counter(d.announced.year for d in result.deals))
    if result.words:
        lines.append(f"article words: min {min(result.words.values())}, max {max(result.words.values())}, "
                     f"total {sum(result.words.values())}")
    return "\n".join(lines)
