"""The UI's Gradio-free parts: form parsing, rendering, per-visitor state and the calls on Advisor/Records."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.advisor import Advisor, InputError
from advisor.config import Settings
from advisor.records import NotFound, Records
from advisor.types import Answer, Citation, SourceView
from ui import render
from ui.inputs import check_lead, consultant_filters, parse_day, split_list
from ui.session import (
    ChatSession,
    ConsultantSession,
    NotAllowed,
    export_draft,
    make_draft,
    parse_link,
    stream_answer,
)


def citation(n: int = 1, **overrides: object) -> Citation:
    fields = {"n": n, "doc_id": "az-cspc", "title": "AZ <and> CSPC", "url": "https://example.com/az",
              "published": "2025-06-20", "chunk_id": "c1", "passage": "AstraZeneca paid $110m upfront.",
              "char_start": 10, "char_end": 41}
    return Citation(**{**fields, **overrides})  # type: ignore[arg-type]


def test_dates_become_yyyymmdd_and_bad_dates_say_what_to_type() -> None:
    assert parse_day("2025-01-31", "From") == 20250131
    assert parse_day("  ", "From") is None
    with pytest.raises(InputError, match="like 2025-01-31"):
        parse_day("31/01/2025", "From")


def test_consultant_filters_map_the_form() -> None:
    audience, filters = consultant_filters(date_from="2024-01-01", date_to="", companies="AstraZeneca; CSPC ,",
                                           therapy_areas=["oncology"], doc_types=["deal"], include_internal=True)
    assert audience == "internal" and filters.audience == "internal"
    assert (filters.date_from, filters.date_to) == (20240101, None)
    assert filters.companies == ("AstraZeneca", "CSPC") and filters.therapy_areas == ("oncology",)
    assert filters.doc_types == ("deal",)
    public, _ = consultant_filters(date_from="", date_to="", companies="", therapy_areas=None, doc_types=None,
                                   include_internal=False)
    assert public == "public"
    with pytest.raises(InputError, match="after"):
        consultant_filters(date_from="2025-02-01", date_to="2025-01-01", companies="", therapy_areas=[],
                           doc_types=[], include_internal=False)
    assert split_list(None) == ()


@pytest.mark.parametrize(("name", "email", "consent", "message"), [
    ("", "a@b.co", True, "name"), ("Ann", "not-an-email", True, "email"), ("Ann", "a@b.co", False, "consent")])
def test_lead_checks_say_what_is_missing(name: str, email: str, consent: bool, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_lead(name=name, email=email, consent=consent)


def test_answer_markdown_links_only_real_citations() -> None:
    answer = Answer(question="q", text="Paid upfront [1]. Also [7].", answer_id="ab12cd34ef", citations=[citation()])
    text = render.answer_markdown(answer)
    assert 'href="#cite-ab12cd34ef-1"' in text and "AZ &lt;and&gt; CSPC" in text
    assert text.endswith("Also [7].")


def test_source_card_marks_the_exact_passage_and_escapes_html() -> None:
    view = SourceView(doc_id="az-cspc", title="AZ <b>", url="javascript:alert(1)", published="2025-06-20",
                      passage="AstraZeneca paid <$110m> upfront.", char_start=700, char_end=733,
                      before="\n## Heading\nThe deal is done. " * 40, after="More text follows here. " * 30)
    html = render.source_card(citation(), view)
    assert "<mark class=\"src-passage\">AstraZeneca paid &lt;$110m&gt; upfront.</mark>" in html
    assert "javascript:" not in html and "<b>" not in html and "## " not in html


def test_status_and_choices() -> None:
    assert render.status("") == ""
    assert "status-error" in render.status("Nope", "error")
    answer = Answer(question="q", text="t [1]", citations=[citation()])
    assert render.citation_choices(answer) == [("[1]  AZ <and> CSPC · 2025-06-20", "1")]
    assert render.citation_choices(None) == []


def test_link_targets_parse_and_reject_garbage() -> None:
    assert parse_link("0123456789abcdef-3-1700000000") == ("0123456789abcdef", 3)
    with pytest.raises(NotFound):
        parse_link("../etc/passwd-1")


def test_consultant_actions_need_an_unlocked_workspace() -> None:
    with pytest.raises(NotAllowed):
        ConsultantSession().require()
    assert ConsultantSession(role="admin").require() == "admin"


@pytest.fixture
def indexed(settings: Settings, mini_corpus: Path) -> Advisor:
    advisor = Advisor.from_settings(settings)
    advisor.ingest([mini_corpus])
    return advisor


def test_stream_answer_grows_then_logs_and_remembers(indexed: Advisor, tmp_path: Path) -> None:
    records = Records(tmp_path / "records.db")
    session = ChatSession()
    steps = list(stream_answer(indexed, records, session, "How much did AstraZeneca pay CSPC upfront?"))
    assert steps[0].text == "" and steps[0].answer is None and steps[0].reading  # the sources, before any text
    assert all(step.reading == () for step in steps[1:])
    partial = [step.text for step in steps[1:] if step.answer is None]
    final_text, answer, _ = steps[-1]
    assert len(partial) > 1 and all(final_text.startswith(p.rstrip()) for p in partial)
    assert set(steps[0].reading) >= {c.title for c in answer.citations}  # type: ignore[union-attr]
    assert answer is not None and answer.citations and answer.answer_id
    assert records.answer(answer.answer_id).conversation_id == session.conversation_id
    assert [t.role for t in session.history] == ["user", "assistant"] and session.last_answer is answer


def test_the_reading_line_names_the_sources_found() -> None:
    from ui.render import reading

    assert reading(("AstraZeneca and CSPC",)) == "_Reading 1 source (AstraZeneca and CSPC) and writing a cited answer…_"
    assert reading(("A", "B", "C", "D")).startswith("_Reading 4 sources (A; B; C; …)")
    assert "Looking" in reading(())


def test_drafts_are_logged_in_the_consultants_conversation(indexed: Advisor, tmp_path: Path) -> None:
    records = Records(tmp_path / "records.db")
    session = ConsultantSession(role="consultant")
    _, filters = consultant_filters(date_from="", date_to="", companies="", therapy_areas=[], doc_types=[],
                                    include_internal=True)
    answer = make_draft(indexed, records, session, "What success fee does the Lantern Protocol set?",
                        style="briefing", length="short", audience="internal", filters=filters)
    assert answer.text.startswith("# Briefing") and "1.5%" in answer.text
    assert session.draft is answer and records.answer(answer.answer_id or "").conversation_id


def test_unexpected_errors_become_an_apology_and_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    from ui.app import APOLOGY, guarded

    @guarded(outputs=2)
    def broken(value: str) -> tuple[str, str]:
        raise RuntimeError("internal detail that must not reach a visitor")

    with pytest.warns(UserWarning):
        skipped, line = broken("x")
    assert APOLOGY in line and "internal detail" not in line and skipped == {"__type__": "update"}
    assert "UI callback failed" in caplog.text and "internal detail" in caplog.text


def test_input_errors_are_shown_as_written() -> None:
    from ui.app import guarded

    @guarded(outputs=1)
    def refuse() -> str:
        raise InputError("question is empty: ask something")

    assert "Question is empty: ask something" in refuse()[0]


def test_exports_write_the_edited_text_with_references_and_prune_old_files(tmp_path: Path) -> None:
    import os

    import docx

    session = ConsultantSession(role="consultant", draft=Answer(question="q", text="t", citations=[citation()]))
    stale = tmp_path / "old" / "meridian-draft.md"
    stale.parent.mkdir()
    stale.write_text("old")
    os.utime(stale, (0, 0))
    markdown = export_draft("Edited draft [1].", session, tmp_path, ".md").read_text(encoding="utf-8")
    assert markdown.startswith("Edited draft [1].") and "[1] AZ <and> CSPC (2025-06-20)" in markdown
    assert not stale.exists()
    word = docx.Document(str(export_draft("Edited draft [1].", session, tmp_path, ".docx")))
    assert [p.text for p in word.paragraphs][0] == "Edited draft [1]."
    with pytest.raises(InputError, match="draft something first"):
        export_draft("  ", session, tmp_path, ".md")
    with pytest.raises(NotAllowed):
        export_draft("text", ConsultantSession(), tmp_path, ".md")


def test_wrong_keys_from_one_client_are_slowed_down(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from ui.app import Callbacks

    settings = Settings(data_dir=tmp_path / "data", embedder="hash", api_keys={"right-key-0123456789": "consultant"})
    callbacks = Callbacks(Advisor.from_settings(settings), Records(tmp_path / "r.db"), settings)
    guesser = SimpleNamespace(client=SimpleNamespace(host="203.0.113.9"))
    other = SimpleNamespace(client=SimpleNamespace(host="198.51.100.4"))

    def status(key: str, request: object) -> str:
        return str(callbacks.unlock(key, ConsultantSession(), request)[-1])

    for _ in range(settings.failed_key_attempts):
        assert "recognised" in status("wrong-guess", guesser)
    # now even the right key waits, from that client only; others are unaffected
    assert "Too many wrong keys" in status("right-key-0123456789", guesser)
    assert "Too many wrong keys" not in status("right-key-0123456789", other)
    assert callbacks.unlock("right-key-0123456789", ConsultantSession(), other)[0].role == "consultant"


def test_sliding_window_forgets_old_events() -> None:
    from advisor.limits import SlidingWindow

    now = [0.0]
    window = SlidingWindow(2, 60.0, clock=lambda: now[0])
    assert window.take("a") == 0 and window.take("a") == 0
    assert window.take("a") > 0 and window.take("b") == 0
    now[0] = 61.0
    assert window.retry_after("a") == 0 and window.take("a") == 0


def test_sliding_window_state_is_bounded() -> None:
    """Clients that went quiet are forgotten after a window; never more than max_keys are held."""
    from advisor.limits import SlidingWindow

    now = [0.0]
    window = SlidingWindow(3, 60.0, clock=lambda: now[0], max_keys=1000)
    for i in range(5000):
        assert window.take(f"10.0.{i // 256}.{i % 256}") == 0
    assert len(window) == 1000  # the least recently active were dropped
    now[0] = 200.0
    window.take("one-more")
    assert len(window) == 1  # everyone else's events left the window


def test_the_prospect_chat_counts_against_the_api_limit(tmp_path: Path) -> None:
    """One Guards per server: questions through the UI and anonymous API calls share a client's allowance."""
    from types import SimpleNamespace

    from advisor.limits import Guards, RateLimited
    from ui.app import Callbacks
    from ui.session import ChatSession

    settings = Settings(data_dir=tmp_path / "data", embedder="hash", anonymous_requests_per_minute=2)
    guards = Guards.from_settings(settings)
    callbacks = Callbacks(Advisor.from_settings(settings), Records(tmp_path / "r.db"), settings, guards)
    visitor = SimpleNamespace(client=SimpleNamespace(host="203.0.113.7"))
    guards.anonymous_request("203.0.113.7")  # one API call
    first = list(callbacks.ask("Japan PMDA?", [], ChatSession(), visitor))
    assert "faster than we can answer" not in str(first[-1][-1])
    refused = list(callbacks.ask("Japan PMDA?", [], ChatSession(), visitor))
    assert len(refused) == 1 and "faster than we can answer" in str(refused[0][-1])
    with pytest.raises(RateLimited):
        guards.anonymous_request("203.0.113.7")
