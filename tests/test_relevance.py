"""Ranking rules of issue 10 ("relevance, measured honestly"), one tiny fixture each.

Each rule is a constant of :class:`~kb.search.RankingProfile`; the tests at the
end run the same fixtures with that constant set back and check that the
outcome is then lost, so each test here fails without its rule.
"""

import pytest

from kb.search import Engine, RankingProfile

from .test_ranking import article, ids, kb_index  # noqa: F401  (kb_index is a fixture)

# Two pages on one condition; the first has many FAQ entries that repeat its name.
KLINEFELTER = {
    "klinefelter-ghr": article(
        "Klinefelter syndrome",
        "Klinefelter syndrome is a chromosomal condition that affects male physical development.",
        faqs=[
            ("What is Klinefelter syndrome?", "A condition of males with an extra X chromosome."),
            ("What causes Klinefelter syndrome?", "An extra copy of the X chromosome in Klinefelter syndrome."),
            ("Is Klinefelter syndrome inherited?", "Klinefelter syndrome is not inherited."),
            ("What are the treatments for Klinefelter syndrome?", "Testosterone for Klinefelter syndrome."),
            ("How many people have Klinefelter syndrome?", "Klinefelter syndrome affects 1 in 650 males."),
        ],
    ),
    "klinefelter-mplus": article(
        "Klinefelter's Syndrome",
        "Klinefelter syndrome is a condition in which boys are born with an extra X chromosome. Long long text "
        + "about chromosomes and development. " * 20,
        faqs=[("Klinefelter's Syndrome", "Summary of Klinefelter syndrome for patients.")],
    ),
}


@pytest.mark.parametrize("query", ["klinefelter syndrome", "klinefel", "klinefelter syndrom"])
def test_topic_query_puts_one_side_entry_per_article_ahead_of_other_articles(kb_index, query):  # noqa: F811
    engine = kb_index(KLINEFELTER)
    found = ids(engine.search(query, limit=20))
    first = found.index("klinefelter-ghr") if found[0] == "klinefelter-ghr" else found.index("klinefelter-mplus")
    assert first == 0
    assert found.index("klinefelter-mplus") <= 2 and found.index("klinefelter-ghr") <= 2
    # the other entries are still there, after the other page
    ghr_entries = [i for i, d in enumerate(found) if d.startswith("klinefelter-ghr#")]
    assert len(ghr_entries) == 5
    assert sorted(ghr_entries)[1] > found.index("klinefelter-mplus")


def test_group_by_article_still_lists_the_side_entries(kb_index):  # noqa: F811
    engine = kb_index(KLINEFELTER)
    hits = engine.search("klinefelter syndrome", group="article").hits
    ghr = next(h for h in hits if h.slug == "klinefelter-ghr")
    assert len(ghr.children) == 3


def test_questions_are_not_diversified(kb_index):  # noqa: F811
    engine = kb_index(KLINEFELTER)
    found = ids(engine.search("what causes klinefelter syndrome in boys"))
    ghr = [d for d in found if d.startswith("klinefelter-ghr#")]
    assert found.index("klinefelter-mplus") > found.index(ghr[1])


def test_question_puts_each_article_just_before_its_first_entry(kb_index):  # noqa: F811
    engine = kb_index(KLINEFELTER)
    found = ids(engine.search("what causes klinefelter syndrome"))
    assert found[:2] == ["klinefelter-ghr", "klinefelter-ghr#what-causes-klinefelter-syndrome"]
    for i, d in enumerate(found):
        if "#" in d:
            assert d.split("#")[0] in found[:i]


# The page named by the query, and a page that talks about it more.
ENDOMETRIAL = {
    "endometrial-cancer": article(
        "Endometrial Cancer",
        "A cancer of the lining of the womb. " + "Bleeding after menopause needs a check. " * 15,
    ),
    "uterine-tumours": article(
        "Uterine Tumours",
        "Endometrial cancer is the most common uterine cancer. Endometrial cancer and other cancer of the "
        "endometrial lining: endometrial cancer screening, endometrial cancer treatment.",
    ),
    "lupus": article("Lupus", "An autoimmune disease."),
}


@pytest.mark.parametrize(
    "query",
    [
        "endometrail cancer",  # a typo
        "endometrial canc",  # a prefix
        "endometrail canc",  # both
        "womb lining cancer",  # a synonym (synonyms.txt below)
    ],
)
def test_title_named_through_a_typo_prefix_or_synonym_ranks_first(kb_index, tmp_path, query):  # noqa: F811
    engine = kb_index(ENDOMETRIAL, synonyms="womb lining cancer, endometrial cancer\n")
    assert ids(engine.search(query))[0] == "endometrial-cancer"


# Another article's name used as an article's own synonym.
ALIASES = {
    "anencephaly": article(
        "Anencephaly",
        "Anencephaly is one of the neural tube defects, where the neural tube does not close.",
        synonyms=["Neural tube defects"],
    ),
    "neural-tube-defects": article(
        "Neural Tube Defects",
        "Birth defects of the brain and spine. " * 10 + "Folic acid before pregnancy lowers the risk.",
    ),
}


def test_an_alias_that_names_another_article_ranks_below_that_article(kb_index):  # noqa: F811
    engine = kb_index(ALIASES)
    found = ids(engine.search("neural tube defects"))
    assert found[0] == "neural-tube-defects"
    assert "anencephaly" in found  # the alias still leads to its own article


# Confidence: high when the right page is found through a synonym or by its FAQ
# entry read with its page; low for what no article is about.
CONFIDENCE = {
    "premenstrual-syndrome": article(
        "Premenstrual Syndrome",
        "Mood changes and bloating in the days before a period.",
        synonyms=["PMS"],
    ),
    "recurrent-miscarriages": article(
        "Recurrent Miscarriages",
        "The loss of two or more pregnancies. Infections, clotting (thrombophilia) and antibodies are among the causes.",
        faqs=[
            ("What are the causes of recurrent miscarriages?", "Genetic problems and hormonal disorders."),
            ("How are recurrent miscarriages diagnosed?", "Blood tests and an ultrasound scan of the uterus."),
        ],
    ),
    "lupus": article("Lupus", "An autoimmune disease that can affect the joints, hormone levels and a pregnancy."),
}


@pytest.mark.parametrize(
    "query, kind",
    [
        ("pms", "synonym"),  # the title is the synonym's target, not a word typed
        # most words are in the page, not in the entry that answers
        ("can infections clotting thrombophilia or antibodies cause repeated miscarriages", "question"),
        ("hormone levels recurrent miscarriages", "question"),  # a title spells half the words
        ("thyroid levels recurrent miscarriages", "question"),  # the page has half the words
    ],
)
def test_right_answer_found_another_way_is_high_confidence(kb_index, query, kind):  # noqa: F811
    engine = kb_index(CONFIDENCE, synonyms="repeated miscarriage, recurrent miscarriage\n")
    r = engine.search(query)
    assert r.hits[0].slug in ("premenstrual-syndrome", "recurrent-miscarriages")
    assert r.confidence == "high"


@pytest.mark.parametrize("query", ["is the clinic wheelchair accessible", "who is the medical director", "parking"])
def test_what_no_article_is_about_stays_low_confidence(kb_index, query):  # noqa: F811
    engine = kb_index(CONFIDENCE)
    r = engine.search(query)
    assert r.total == 0 or r.confidence == "low"


# A broader page whose whole title is inside the query, and the page on the query.
CONTAINED = {
    "diabetes": article(
        "Diabetes",
        "Diabetes is high blood sugar. It has types: type 1, type 2 and gestational diabetes. Insulin and diet "
        "and exercise help to keep the blood sugar in range, and checks of the eyes, feet and kidneys find "
        "problems early. Most people with type 2 take tablets first and insulin later; a dietitian, a nurse "
        "and a doctor plan care together with you every year. A yearly review looks at weight and cholesterol too.",
    ),
    "gd-guide": article(
        "What I need to know about Gestational Diabetes",
        "Gestational diabetes is diabetes found in pregnancy. Blood sugar is checked at 24 weeks. "
        "It often goes away after the baby is born.",
    ),
    "lupus": article("Lupus", "An autoimmune disease."),
    "asthma": article("Asthma", "Airways narrow."),
}


def test_a_title_inside_the_query_gets_only_a_small_bonus(kb_index):  # noqa: F811
    engine = kb_index(CONTAINED)
    assert ids(engine.search("gestational diabetes"))[:2] == ["gd-guide", "diabetes"]


# -- without each rule, its outcome is lost ---------------------------------------------


@pytest.fixture
def without():
    """``without(engine, **profile_values)`` -> an Engine over the same index with those values."""
    made = []

    def make(engine, **values):
        made.append(Engine(engine.index_dir, reload_seconds=0.0, profile=RankingProfile().with_overrides(**values)))
        return made[-1]

    yield make
    for engine in made:
        engine.close()


def test_without_side_entries_the_other_page_is_pushed_down(kb_index, without):  # noqa: F811
    found = ids(without(kb_index(KLINEFELTER), side_entries=-1).search("klinefelter syndrome", limit=20))
    assert found.index("klinefelter-mplus") > 2


def test_without_question_article_first_an_entry_leads(kb_index, without):  # noqa: F811
    found = ids(without(kb_index(KLINEFELTER), question_article_first=False).search("what causes klinefelter syndrome"))
    assert found[0] == "klinefelter-ghr#what-causes-klinefelter-syndrome"


def test_without_title_credit_a_typo_loses_the_named_page(kb_index, without):  # noqa: F811
    engine = kb_index(ENDOMETRIAL, synonyms="womb lining cancer, endometrial cancer\n")
    for query in ("endometrail cancer", "endometrial canc", "womb lining cancer"):
        assert ids(without(engine, title_credit=False).search(query))[0] != "endometrial-cancer"


def test_without_the_ambiguous_weight_the_alias_wins(kb_index, without):  # noqa: F811
    assert ids(without(kb_index(ALIASES), weight_ambiguous=0).search("neural tube defects"))[0] == "anencephaly"


@pytest.mark.parametrize(
    "values, query",
    [
        (
            {"confidence_with_article": False},
            "can infections clotting thrombophilia or antibodies cause repeated miscarriages",
        ),
        ({"confidence_agreement": 0.6}, "hormone levels recurrent miscarriages"),
        ({"confidence_coverage": 0.6}, "thyroid levels recurrent miscarriages"),
    ],
)
def test_without_the_calibration_the_right_answer_is_low_confidence(kb_index, without, values, query):  # noqa: F811
    engine = kb_index(CONFIDENCE, synonyms="repeated miscarriage, recurrent miscarriage\n")
    assert without(engine, **values).search(query).confidence == "low"


def test_with_the_old_contained_title_bonus_the_broader_page_wins(kb_index, without):  # noqa: F811
    assert (
        ids(without(kb_index(CONTAINED), title_bonus=[1.0, 0.75, 0.5]).search("gestational diabetes"))[0] == "diabetes"
    )


def test_explain_says_what_diversity_did(kb_index):  # noqa: F811
    from kb.presentation import explanation_lines

    hits = kb_index(KLINEFELTER).search("klinefelter syndrome", limit=20, explain=True).hits
    deferred = [h for h in hits if h.explain["diversity"]]
    assert deferred and all(h.slug == "klinefelter-ghr" and h.kind == "faq" for h in deferred)
    assert any(line.startswith("  moved: deferred") for line in explanation_lines(deferred[0].explain))
    assert hits[0].explain["diversity"] is None
