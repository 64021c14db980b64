from advisor.text import clean_markdown, company_key, content_words, numbers, sentence_spans


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_sentences_keep_abbreviations_and_decimals_whole() -> None:
    text = "AstraZeneca paid $5.3bn to CSPC in 2025. The U.S. partner, e.g. Pfizer Inc. and others, paid more! Why?"
    assert _sentences(text) == [
        "AstraZeneca paid $5.3bn to CSPC in 2025.",
        "The U.S. partner, e.g. Pfizer Inc. and others, paid more!",
        "Why?",
    ]


def test_lines_and_list_items_are_separate_sentences() -> None:
    assert _sentences("## Heading\n- first item\n- second item") == ["## Heading", "- first item", "- second item"]


def test_numbers_are_normalised() -> None:
    assert numbers("$5.3 billion, 1,250m and 28%") == {"5.3bn", "1250m", "28%"}


def test_clean_markdown_strips_markup_only() -> None:
    assert clean_markdown("- **Upfront**: $110m [source](http://x)") == "Upfront: $110m source"


def test_company_keys_ignore_corporate_suffixes() -> None:
    assert company_key("CSPC Pharmaceutical Group") == company_key("CSPC") == "cspc"
    assert company_key("Merck & Co.") == "merck"


def test_words_that_ask_for_recency_are_not_what_a_question_is_about() -> None:
    words = content_words("What is the latest news on Summit's ivonescimab trial?")
    assert words == ["summit", "ivonescimab", "trial"]
    # "what's", "it's": the stopwords they are ("'s" goes before the stopword check)
    assert content_words("What's a NewCo, and where’s it heading? It's Hengrui's") == ["newco", "heading", "hengrui"]
    assert content_words("Which authority currently administers the rules?") == ["authority", "administers", "rules"]


def test_a_word_with_digits_ends_its_sentence_where_an_initial_would_not() -> None:
    text = ("Deals cluster in crowded classes such as GLP-1s. Third, the upfront was $110m. "
            "The U.S. FDA and J. Smith agree.")
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Deals cluster in crowded classes such as GLP-1s.", "Third, the upfront was $110m.",
        "The U.S. FDA and J. Smith agree."]
