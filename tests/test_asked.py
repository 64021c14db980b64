import pytest

from advisor.asked import asked_fields, asked_kind, asset_codes, names_person, states, subject_of, years_unmentioned


@pytest.mark.parametrize(("question", "kind"), [
    ("What upfront did Verdiva Bio pay Sciwind Biosciences?", "money"),
    ("How much did Pfizer pay 3SBio upfront?", "money"),
    ("What were the financial terms of the deal?", "money"),
    ("What were Akeso's total revenues in 2024?", "money"),
    ("How many patients were enrolled in HARMONi-2?", "number"),
    ("What was the overall survival hazard ratio?", "number"),
    ("When did the House pass the FY2026 NDAA?", "date"),
    ("On what exact date do the prohibitions take effect?", "date"),
    # the verb or the noun before "rate" says a value is asked for
    ("What did BioNTech pay to acquire Biotheus?", "money"),
    ("What does a scientific consultation cost these days?", "money"),
    ("How much is the investor putting into the next round?", "money"),
    ("How much do you charge for a market assessment?", "money"),
    ("What royalty rate is the licensee paying?", "number"),
    ("What's the firm's win rate on proposals?", "number"),
    # no value asked for, though the words appear
    ("How much capacity does Samsung Biologics have at Songdo?", None),
    ("When you scout assets for a client, how do you score them?", None),
    ("Which company is accused of manipulating search results to maximise ad revenue?", None),  # asks for a company
    ("What company is accused of manipulating search results to maximise ad revenue?", None),
    ("What revenue did Akeso report in 2024?", "money"),  # the noun asked for is the value
    ("What total revenue did Akeso report in 2024?", "money"),
    ("What share of Akeso's revenue comes from China?", "number"),
    ("How should we handle MFN pricing risk when licensing Asian rights?", None),
    ("What did AstraZeneca agree with CSPC in 2025?", None),
    ("pre-revenue US biotech here, planning first-in-human next year. should we run it in australia?", None),
    # a yes-or-no question stating a payment asks for it: only a source stating it confirms or denies
    ("is it true Verdiva paid Sciwind about $50m upfront for ecnoglutide?", "money"),
    ("Did AstraZeneca pay CSPC $110m upfront?", "money"),
    ("Is Japan a good market for a 10m euro launch?", None),  # an amount, but no payment
    ("Did the 2024 deals exceed 40bn in total?", None),
    # who holds a role asks for a person; who led a financing, or a question naming the asker's CEO, does not
    ("Who is the CEO of Kailera Therapeutics?", "person"),
    ("who took over as president of the China business after the investigation?", "person"),
    ("Who led the NewCo's launch financing?", None),
    ("Our CEO wants to de-risk from China: how do we diversify?", None),
])
def test_the_kind_of_value_a_question_asks_for(question: str, kind: str | None) -> None:
    assert asked_kind(question) == kind


def test_an_answer_states_a_value_of_that_kind_or_not() -> None:
    assert states("money", "Pfizer paid $1.25bn upfront [1].")
    assert states("money", "The upfront was 1,250 million USD.")
    assert not states("money", "Verdiva Bio licensed ecnoglutide from Sciwind Biosciences [2].")
    assert not states("number", "The trial met its primary endpoint [1].")  # a citation number is not a value
    assert states("date", "The House passed it on 11 December 2025 [1].")
    assert not states("date", "The House has passed the bill [3].")
    # a date counted from an event is a date: when a term ends is often written only so
    assert states("date", "The initial term ends five (5) years after the Effective Date [1].")
    assert states("date", "The licence lapses on the third anniversary of first commercial sale [1].")
    assert states("date", "Trials may start 60 working days after filing without objection [2].")
    assert not states("date", "The agreement runs for a period of three years [1].")  # a length, not a when
    assert states("date", "The term shall begin on the Effective Date and continue in effect for a period of five "
                          "(5) years (the \"Initial Term\") [1].")  # a start and a length: the end
    assert not states("date", "Two years of data back the filing [1].")


def test_a_named_kind_of_money_must_be_stated_as_that_kind() -> None:
    record = "Duality Biologics–Avenzo Therapeutics deal value: upfront $50m, milestones not reported [2]."
    assert states("money", record, ["upfront"])
    assert not states("money", record, ["milestone"])  # an amount next to another field answers nothing
    assert states("money", "The deal included $200m in upfront cash [1].", ["upfront"])
    assert not states("money", "China accounted for $6.4bn of AstraZeneca's sales [4].", ["upfront"])
    assert states("money", "China accounted for $6.4bn of AstraZeneca's sales [4].", ["revenue"])
    assert states("money", "Pfizer paid $1.25bn [1].")  # no field named: any amount
    assert states("money", "Phase 2/3 with differentiated data — Typical upfront: $200m–$1.25bn [1].", ["upfront"])


def test_a_defined_term_right_after_a_value_names_it() -> None:
    # contracts and filings label a value with a defined term in parentheses: the date is the effective date
    opening = ('This Agreement (the "Agreement") is entered into as of June 26, 2015 (the "Effective Date"), '
               'between RemainCo and SpinCo [1].')
    assert states("date", opening, ["takes effect"])
    dated = "made as of the 20th day of March, 2018 (the “Effective Date”) by and between"
    assert states("date", dated, ["takes effect"])
    assert not states("date", 'The parties (the "Effective Date" signatories) met in 2015 [1].', ["takes effect"])
    # a parenthetical that is no defined term labels nothing: "not disclosed" states no milestones
    assert not states("money", "Pfizer paid $50m (milestones not disclosed) [1].", ["milestone"])


def test_the_years_a_question_names_that_no_passage_mentions() -> None:
    passages = ["In December 2023 MHLW issued a notice.", "Prices are revised every year."]
    assert years_unmentioned("What will MHLW cut in the April 2027 revision?", passages) == ["2027"]
    assert years_unmentioned("What changed between 2023 and 2026?", passages) == ["2026"]
    assert years_unmentioned("What did MHLW issue in 2023?", passages) == []
    assert years_unmentioned("What is in the FY2027 NDAA, and what did HRS2027 show?", passages) == []  # no years
    assert years_unmentioned("What did MHLW issue?", []) == []


def test_which_money_a_question_names() -> None:
    assert asked_fields("What NHI price did Japan set for Leqembi?") == ["price"]
    assert asked_kind("What NHI price did Japan set for Leqembi?") == "money"
    assert asked_fields("What milestones are attached to the licence?") == ["milestone"]
    assert asked_fields("What were Akeso's total revenues in 2024?") == ["revenue"]
    assert asked_fields("How much did AstraZeneca pay CSPC?") == []
    # money put into a company's equity is not the licence's upfront
    question = "How much is Novartis putting into Argo's next equity round?"
    assert asked_kind(question) == "money" and asked_fields(question) == ["equity"]
    assert not states("money", "Novartis pays a reported $160m upfront to Argo [1].", asked_fields(question))
    assert states("money", "Novartis invested $50m in Argo's Series C [1].", asked_fields(question))
    assert states("money", "Hengrui received a $110m equity stake in the NewCo [2].", ["equity"])


def test_a_year_or_a_code_is_not_a_count() -> None:
    assert not states("number", "HARMONi-2 enrolled only patients in China in 2022 [1].")
    assert not states("number", "The licence covers HRS9531 and BB-1701 [2].")
    assert states("number", "It enrolled 398 patients [1].")
    assert states("number", "Four deals illustrate the range [1].")


def test_a_field_and_an_amount_in_different_sentences_do_not_state_that_field() -> None:
    text = "Up to $250m incl. upfront and milestones [3]. China gave AstraZeneca revenue growth in 2024 [4]."
    assert not states("money", text, ["revenue"])
    assert states("money", "China accounted for $6.4bn of AstraZeneca's revenue in 2024 [4].", ["revenue"])


def _companies_in(text: str) -> set[str]:
    """A stand-in for the deal records' company finder."""
    return {name for name in ("Eisai", "Bliss", "BioNTech", "Duality", "Avenzo", "XtalPi", "AstraZeneca")
            if name in text}


def test_a_value_counts_only_in_a_sentence_about_what_the_question_names() -> None:
    about = subject_of("What upfront did Eisai pay Bliss for the HER2 ADC BB-1701?", _companies_in)
    assert about is not None
    other_deal = ("Bliss–Eisai deal value: upfront not reported [1]. In April 2023 BioNTech licensed DB-1303 from "
                  "Duality for $170m upfront [2].")
    assert states("money", other_deal, ["upfront"]) and not states("money", other_deal, ["upfront"], about)
    assert states("money", "Eisai paid Bliss $50m upfront for BB-1701 [1].", ["upfront"], about)
    assert states("money", "BB-1701 came with $50m upfront [1].", ["upfront"], about)  # the code alone will do


def test_a_sentence_about_another_drug_of_the_same_company_does_not_count() -> None:
    about = subject_of("What milestones are attached to the Duality–Avenzo DB-1418 licence?", _companies_in)
    assert about is not None
    assert not about("BioNTech licensed DB-1303 from Duality for up to $1.5bn in milestones.")
    assert about("Duality and Avenzo agreed up to $1.15bn in milestones.")  # the pair, no other drug named
    assert about("DB-1418 carries up to $1.15bn in milestones.")


def test_a_question_naming_no_company_or_drug_has_no_subject_test() -> None:
    assert subject_of("How many patients were enrolled in HARMONi-2?", _companies_in) is None


def test_drug_codes_are_not_targets_years_or_diseases() -> None:
    assert asset_codes("BB-1701, HRS9531 and SSGJ-707 vs PD-L1, CD19, IL-23, COVID-19, HER2 in FY2026") == {
        "BB-1701", "HRS9531", "SSGJ-707"}


def test_a_sentence_about_one_of_the_companies_and_someone_else_is_another_deal() -> None:
    about = subject_of("How much did BioNTech pay Bliss upfront?", _companies_in)
    assert about is not None
    assert not about("Eisai paid Bliss $50m upfront.")  # Bliss, but Eisai's deal
    assert about("Bliss received $20m upfront.") and about("BioNTech paid Bliss $20m upfront, Eisai $50m.")


def test_what_a_number_or_date_question_names_must_come_with_the_value() -> None:
    assert asked_fields("What was the overall survival hazard ratio in HARMONi-2?", "number") == ["overall survival"]
    pfs_only = "PFS improved to 11.1 months, a hazard ratio of 0.51 [1]. Overall survival data were immature [2]."
    assert states("number", pfs_only) and not states("number", pfs_only, ["overall survival"])
    assert states("number", "The overall survival hazard ratio was 0.77 [1].", ["overall survival"])
    fields = asked_fields("On what exact date do the BIOSECURE prohibitions take effect?", "date")
    assert fields == ["takes effect"]
    assert not states("date", "The House passed the FY2026 NDAA on 11 December 2025 [1].", fields)
    assert states("date", "The prohibitions take effect on 1 January 2032 [1].", fields)


def test_a_count_must_count_the_thing_asked_about() -> None:
    fields = asked_fields("How many patients were enrolled in the HARMONi-2 trial?", "number")
    assert fields == ["count:patient"]
    assert not states("number", "The committee voted 14 to 1 that more data were needed for US patients.", fields)
    assert states("number", "It enrolled 398 adult patients in China [1].", fields)
    assert asked_fields("How many US- or Europe-approved medicines were unapproved?", "number") == ["count:medicine"]
    assert asked_fields("How many companies did the text add?", "number") == ["count:compan"]
    assert states("number", "Fewer than 100,000 individuals a year [1].", ["count:individual"])


def test_a_rate_must_be_of_the_thing_asked_about() -> None:
    fields = asked_fields("What royalty rate is GSK paying on the licence?", "number")
    assert fields == ["of:royalt"]
    assert not states("number", "GSK pays $500m upfront and tiered royalties [1].", fields)  # no rate of royalties
    assert states("number", "GSK pays royalties of up to 12% on net sales [1].", fields)
    assert asked_fields("What share of the headline was that upfront?", "number") == []  # nothing named before it


def test_a_question_naming_its_drug_is_not_answered_by_another_deal_of_one_party() -> None:
    about = subject_of("How much did BioNTech pay Bliss upfront for BB-1701?", _companies_in)
    assert about is not None
    assert about("BB-1701 carried $50m upfront [1].")
    assert about("Bliss–BioNTech deal value: upfront $20m [2].")  # the deal's own line names both parties
    assert not about("BioNTech paid $650m upfront for another bispecific [3].")  # one party, no code


def test_who_holds_a_role_is_answered_by_a_person_the_question_does_not_name() -> None:
    def company_or_country(name: str) -> bool:
        return "AstraZeneca" in name or "China" in name

    text = ("Leon Wang, AstraZeneca's executive vice-president and the president of AstraZeneca China, was under "
            "investigation in October 2024 [1]. AstraZeneca's shares fell on the news [1].")
    assert names_person("Who was the AstraZeneca China president that authorities investigated in 2024?", text,
                        company_or_country)
    # the sentence that names the role names only the person the question already names
    assert not names_person("Who took over as president of AstraZeneca China after Leon Wang was detained?", text,
                            company_or_country)
    # no sentence names the role at all
    assert not names_person("Who is the CEO of Kailera Therapeutics?",
                            "Kailera Therapeutics launched in May 2024 with $400m [2].", company_or_country)
    # a company, a country or a month beside the role is no person
    assert not names_person("Who is the president of the new company?",
                            "In October 2024 the president of AstraZeneca China resigned [1].", company_or_country)
    assert names_person("Who is the president of the new company?",
                        "Maria Chen became its president in October 2024 [1].", company_or_country)

