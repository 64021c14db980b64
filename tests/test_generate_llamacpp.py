"""The llama.cpp path for real, with the small SmolLM2 package: the pipeline, streaming, verification, fallback.

SmolLM2-135M is far too small to answer well; these tests check what our code does with whatever it writes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from advisor import models
from advisor.advisor import Advisor
from advisor.cite import verify
from advisor.config import Settings
from advisor.generate.llamacpp import LlamaCppChat
from advisor.types import Answer, Turn

pytestmark = pytest.mark.model
SMOL = "smollm2-135m"


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


def test_the_build_is_portable() -> None:
    """llama.cpp was built for the portable baseline (make install's flags), not for this CPU: no AVX-512 or AMX
    kernels that a machine advertising them might not run (an AMX build segfaulted on an Intel VM)."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode()
    flags = dict(re.findall(r"(\w+) = (\d)", info))
    assert flags.get("AVX2") == "1", info  # the baseline itself is there
    assert not [f for f, on in flags.items() if on == "1" and f.startswith(("AVX512", "AMX"))], info


def test_advisor_streams_a_verified_answer_from_the_model_process(settings: Settings, mini_corpus: Path,
                                                                  smol_gguf: Path) -> None:
    local = settings.model_copy(update={"generator": "llamacpp", "llm_model": str(smol_gguf), "llm_max_tokens": 64,
                                        "llm_evidence_sentences": 4})
    advisor = Advisor.from_settings(local)
    try:
        advisor.ingest([mini_corpus])
        advisor.warm_up()
        assert advisor.wait_for_model(180)["state"] == "ready"  # type: ignore[index]
        question = "What did AstraZeneca agree with CSPC in June 2025, and what was paid upfront?"
        events = list(advisor.stream(question, writer="llm"))
        kinds = [e["event"] for e in events]
        assert kinds[0] == "sources" and kinds[-1] == "answer" and set(kinds[1:-1]) == {"delta"}
        answer = Answer.model_validate(events[-1]["data"])
        assert "".join(e["data"] for e in events if e["event"] == "delta") == answer.text
        # whatever the model wrote, what is shown is supported: its own sentences or the extractive fallback
        assert answer.covered and answer.citations
        assert not any("unavailable" in n for n in answer.notes), answer.notes
        cited = {int(n) for g in re.findall(r"\[([\d, ]+)\]", answer.text) for n in g.split(",")}
        assert cited == {c.n for c in answer.citations} == set(range(1, len(answer.citations) + 1))
        documents = {c.doc_id: advisor.store.catalog.document(c.doc_id) for c in answer.citations}
        assert verify(answer.text, answer.citations, {k: v for k, v in documents.items() if v}).text == answer.text
        assert answer.timings_ms["first_token_ms"] > 0  # the model process streamed tokens
        # the audience default: a prospect's answer is quoted from the sources, the model is not asked
        prospect = advisor.ask(question)
        assert prospect.writer == "extractive" and prospect.covered
        # a follow-up goes through the model's condenser (or the rule-based rewrite if its reply is unusable)
        history = [Turn(role="user", content="What did AstraZeneca agree with CSPC?"),
                   Turn(role="assistant", content=answer.text)]
        follow = advisor.ask("what about their upfront?", history=history, writer="llm")
        assert any(n.startswith("read as:") for n in follow.notes)
        # a question in another script goes to the model process to be read in English (a 135M model may not
        # manage: then it is read as written); either way a prospect's answer is quoted from the sources
        japanese = advisor.ask("アストラゼネカ（AstraZeneca）はCSPCに契約一時金をいくら支払いましたか？")
        assert japanese.timings_ms["translate_ms"] > 0 and japanese.writer == "extractive"
        assert not japanese.citations or "CSPC" in japanese.text
    finally:
        advisor.close()


def test_missing_local_model_serves_extractive_answers_and_says_why(settings: Settings, mini_corpus: Path,
                                                                    tmp_path: Path) -> None:
    local = settings.model_copy(update={"generator": "llamacpp", "llm_model": str(tmp_path / "absent.gguf")})
    advisor = Advisor.from_settings(local)
    advisor.ingest([mini_corpus])
    advisor.warm_up()
    status = advisor.wait_for_model(30)
    assert status is not None and status["state"] == "failed" and "not found" in str(status["detail"])
    answer = advisor.ask("What does CSPC contribute to the collaboration?", writer="llm")
    assert answer.covered and "AI platform" in answer.text and answer.writer == "extractive"
    assert any("language model was unavailable" in n for n in answer.notes)
