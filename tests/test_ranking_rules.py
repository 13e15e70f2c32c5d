"""The ranking rules, the profile, BM25F and explain on a fake posting source (no index build).

Each rule has a test that fails without it: the same candidates are ranked
with and without the rule and the order must differ the way the rule says.
"""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb.search import planner, ranking, scorer
from kb.search.collectors import top_k
from kb.search.explain import explain_doc
from kb.search.profile import RankingProfile
from kb.search.query import Query, Slot
from kb.search.scorer import Matches
from kb.search.similarity import BM25F

from .fake_postings import snapshot


class FakeGen:
    """What the rules read of a snapshot: kinds and title lengths."""

    def __init__(self, kind, title_len):
        self.kind = np.array(kind, dtype=np.int8)
        self.title_len = np.array(title_len, dtype=np.int32)


def candidates(total, matched=None, typos=None, title_hits=None, kind=None, title_len=None, words=2, question=False):
    n = len(total)
    zeros = [0] * n
    m = Matches(
        total=np.array(total, dtype=np.float32),
        matched=np.array(matched or zeros, dtype=np.int16),
        typos=np.array(typos or zeros, dtype=np.int16),
        title_hits=np.array(title_hits or zeros, dtype=np.int16),
    )
    query = Query("q", [Slot(f"w{i}", f"w{i}") for i in range(words)], question)
    gen = FakeGen(kind or [0] * n, title_len or [9] * n)
    return ranking.Candidates(gen, query, m, RankingProfile(), np.arange(n))


def order(c, rules, top=None):
    return top_k(ranking.sort_keys(c, rules), top, np.arange(len(c.ids))).tolist()


def test_words_matched_puts_documents_matching_more_words_first():
    c = candidates(total=[30.0, 10.0], matched=[1, 2])
    assert order(c, ranking.default_rules()) == [1, 0]
    assert order(c, [ranking.Relevance()]) == [0, 1]  # without the rule


def test_curation_puts_pinned_documents_first_in_position_order():
    from kb.search.curate import Curated

    c = candidates(total=[30.0, 20.0, 10.0], matched=[2, 2, 1])
    c.curated = Curated(rules=["r"], pins={2: (1, "r"), 1: (2, "r")})
    assert order(c, ranking.default_rules()) == [2, 1, 0]
    assert order(c, ranking.default_rules()[1:]) == [0, 1, 2]  # without the rule
    assert ranking.explain(c, ranking.default_rules(), 2)["curation"] == {"rules": ["r"], "pinned": 1, "pinned_by": "r"}
    c.curated = Curated()  # no rule matched: the rule does not apply
    assert "curation" not in ranking.explain(c, ranking.default_rules(), 0)


def test_fewer_typos_puts_exact_words_before_corrections():
    c = candidates(total=[30.0, 10.0], matched=[2, 2], typos=[1, 0])
    assert order(c, ranking.default_rules()) == [1, 0]
    assert order(c, [ranking.WordsMatched(), ranking.Relevance()]) == [0, 1]


def test_search_box_rules_do_not_apply_to_questions_or_long_queries():
    for c in (
        candidates(total=[30.0, 10.0], matched=[1, 2], question=True),
        candidates(total=[30.0, 10.0], matched=[1, 2], words=5),
    ):
        assert order(c, ranking.default_rules()) == [0, 1]
        assert list(ranking.explain(c, ranking.default_rules(), 0)) == ["score"]


def test_relevance_adds_the_title_bonus_for_a_title_the_query_names():
    # doc 1's title is exactly the two query words: it gets 1.0 x the best score.
    c = candidates(total=[30.0, 20.0], matched=[2, 2], title_hits=[1, 2], title_len=[3, 2])
    assert order(c, ranking.default_rules()) == [1, 0]
    assert c.score.tolist() == [30.0, 50.0]
    assert ranking.explain(c, ranking.default_rules(), 1)["score"] == {
        "value": 50.0,
        "bm25f": 20.0,
        "title_bonus": 30.0,
    }


def test_title_bonus_is_smaller_for_entries_and_for_titles_contained_in_the_query():
    c = candidates(total=[10.0, 10.0, 10.0], title_hits=[2, 2, 1], title_len=[2, 2, 1], kind=[0, 2, 2])
    assert c.title_bonus.tolist() == list(RankingProfile().title_bonus)


def test_ties_on_every_rule_keep_the_tiebreak_order():
    c = candidates(total=[5.0, 7.0, 5.0, 7.0], matched=[2, 2, 2, 1])
    assert order(c, ranking.default_rules()) == [1, 0, 2, 3]
    c = candidates(total=[5.0, 7.0, 5.0, 7.0], matched=[1, 1, 1, 1])
    assert order(c, ranking.default_rules()) == [1, 3, 0, 2]
    assert top_k(ranking.sort_keys(c, ranking.default_rules()), 2, np.array([3, 2, 1, 0])).tolist() == [3, 1]


def test_keys_every_candidate_shares_are_left_out():
    c = candidates(total=[5.0, 7.0, 5.0], matched=[1, 1, 1])  # one word matched by all: score alone
    assert [k.tolist() for k in ranking.sort_keys(c, ranking.default_rules())] == [[-5.0, -7.0, -5.0]]


_keys = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
        st.lists(st.integers(0, 2), min_size=n, max_size=n),
        st.lists(st.sampled_from([0.5, 1.0, 2.5, 7.0]), min_size=n, max_size=n),
        st.permutations(range(n)),
    )
)


@settings(max_examples=200, deadline=None)
@given(keys=_keys, top=st.integers(1, 70))
def test_the_partial_sort_equals_a_full_lexsort(keys, top):
    """top_k narrows the candidates before sorting: the page must be the full sort's first ``top``."""
    *rule_keys, tiebreak = (np.array(k) for k in keys)
    full = np.lexsort([tiebreak] + rule_keys[::-1])[:top]
    assert top_k(rule_keys, top, tiebreak).tolist() == full.tolist()


def test_every_rule_has_a_name_and_a_one_line_docstring():
    for rule in ranking.default_rules():
        assert rule.name and rule.__doc__ and "\n" not in rule.__doc__.strip()


# -- the profile ---------------------------------------------------------------------


def test_profile_overrides_make_a_copy_and_parse_strings():
    base = RankingProfile()
    changed = base.with_overrides(k1="2.5", weight_typo="[1, 0.5, 0.1]", field_weights='{"title": 8}')
    assert (changed.k1, changed.weight_typo, changed.field_weights["title"]) == (2.5, (1.0, 0.5, 0.1), 8.0)
    assert changed.field_weights["body"] == base.field_weights["body"]
    assert base.k1 == 3.0 and base.field_weights["title"] == 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.k1 = 1.0
    with pytest.raises(TypeError):
        base.field_weights["title"] = 1.0


@pytest.mark.parametrize(
    "name, value",
    [("k2", 1), ("k1", "lots"), ("weight_typo", "[1, 2]"), ("field_weights", '{"nope": 1}'), ("short_query", 2.5)],
)
def test_profile_refuses_unknown_names_and_bad_values(name, value):
    with pytest.raises(ValueError, match=name.split("_")[0]):
        RankingProfile().with_overrides(**{name: value})


def test_profile_settings_as_name_value_strings():
    profile = RankingProfile().with_settings(["k1=2.5", "parent_blend = 0.5", "question_words=what,how"])
    assert (profile.k1, profile.parent_blend, profile.question_words) == (2.5, 0.5, frozenset({"what", "how"}))
    with pytest.raises(ValueError, match="name=value"):
        RankingProfile().with_settings(["k1"])


def test_profile_as_dict_is_plain_data():
    d = RankingProfile().as_dict()
    assert d["k1"] == 3.0 and d["field_weights"]["title"] == 5.0 and isinstance(d["question_words"], list)


# -- BM25F, the scorer and explain on fake postings ----------------------------------

DOCS = [
    {"kind": "article", "slug": "asthma", "title": "Asthma", "body": "Asthma narrows the airways."},
    {"kind": "article", "slug": "cough", "title": "Cough", "body": "A cough can come with asthma or a cold."},
    {
        "kind": "faq",
        "slug": "asthma",
        "title": "What triggers asthma?",
        "article_title": "Asthma",
        "body": "Smoke and pollen.",
    },
]


def test_bm25f_matches_the_formula_by_hand():
    gen = snapshot(DOCS)
    bm25 = BM25F(gen, RankingProfile())
    score, df = bm25.saturate(bm25.pseudo_frequency("cough"))
    # "cough": title (weight 5) and body of doc 1 only; N = 3 live documents.
    tf = 5.0 / gen.norm["title"][1] + 1.0 / gen.norm["body"][1]
    idf = np.log(1 + (3 - 1 + 0.5) / (1 + 0.5))
    assert df == 1
    assert score[1] == pytest.approx(idf * tf * 4.0 / (tf + 3.0), rel=1e-5)
    explained = bm25.explain(1, ["cough"])
    assert explained["score"] == pytest.approx(float(score[1]), abs=1e-3)
    assert sum(explained["fields"].values()) == pytest.approx(explained["score"], abs=1e-3)


def test_k1_override_changes_scores():
    gen = snapshot(DOCS)
    a = BM25F(gen, RankingProfile()).saturate(BM25F(gen, RankingProfile()).pseudo_frequency("asthma"))[0]
    low = RankingProfile().with_overrides(k1=0.5)
    b = BM25F(gen, low).saturate(BM25F(gen, low).pseudo_frequency("asthma"))[0]
    assert not np.allclose(a, b)


def test_entries_inherit_their_articles_score_and_stay_below_it_for_a_topic():
    gen = snapshot(DOCS)
    profile = RankingProfile()
    query = planner.plan(gen, "asthma ", profile, typing=False)
    m = scorer.score(gen, query, profile)
    assert m.inherited[2] == m.total[0]
    assert m.total[2] == np.float32(m.total[0] * profile.parent_cap)
    no_blend = scorer.score(gen, query, profile.with_overrides(parent_blend=0))
    assert no_blend.total[2] < m.total[2]


def test_question_prior_lifts_faq_entries_for_a_question():
    gen = snapshot(DOCS)
    query = planner.plan(gen, "what triggers asthma?", RankingProfile())
    assert query.question
    plain = scorer.score(gen, query, RankingProfile().with_overrides(question_prior=1.0))
    lifted = scorer.score(gen, query, RankingProfile())
    assert lifted.total[2] == pytest.approx(plain.total[2] * 1.2, rel=1e-6)
    assert lifted.total[0] == plain.total[0]


def test_deleted_documents_never_match():
    gen = snapshot(DOCS, deleted={1})
    m = scorer.score(gen, planner.plan(gen, "cough ", RankingProfile(), typing=False), RankingProfile())
    assert m.total[1] == 0


def test_explain_names_the_rules_and_each_words_terms_and_fields():
    gen = snapshot(DOCS)
    profile = RankingProfile()
    query = planner.plan(gen, "asthma cough", profile)
    m = scorer.score(gen, query, profile)
    c = ranking.Candidates(gen, query, m, profile, np.flatnonzero(m.total > 0))
    e = explain_doc(c, ranking.default_rules(), 1)
    assert list(e["rules"]) == ["words_matched", "typos", "score"]
    assert e["rules"]["words_matched"] == 2
    asthma, cough = e["slots"]
    assert asthma["matched_by"] == cough["matched_by"] == "exact"
    assert set(asthma["alternatives"][0]["terms"][0]["fields"]) == {"body"}
    assert sum(s["score"] for s in e["slots"]) == pytest.approx(e["rules"]["score"]["bm25f"], abs=1e-3)


# -- the fake posting source and the real index agree; explain agrees with the ranking ----

WORDS = ["asthma", "cough", "cold", "smoke", "pollen", "airways", "triggers", "narrow", "wheeze"]


def _docs(texts):
    docs = []
    for i, (title, body, faqs) in enumerate(texts):
        slug = f"a{i}"
        docs.append({"kind": "article", "slug": slug, "title": title, "body": body})
        for j, (question, answer) in enumerate(faqs):
            docs.append(
                {
                    "kind": "faq",
                    "slug": slug,
                    "title": question,
                    "article_title": title,
                    "body": answer,
                    "id": f"{slug}#q{j}",
                }
            )
    return docs


_phrase = st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(" ".join)
_article = st.tuples(_phrase, _phrase, st.lists(st.tuples(_phrase, _phrase), max_size=2))


@settings(max_examples=25, deadline=None)
@given(texts=st.lists(_article, min_size=1, max_size=4), query=_phrase, typing=st.booleans())
def test_explain_adds_up_and_the_rules_order_the_page(texts, query, typing):
    gen = snapshot(_docs(texts))
    profile = RankingProfile()
    q = planner.plan(gen, query + ("" if typing else " "), profile, typing)
    m = scorer.score(gen, q, profile)
    c = ranking.Candidates(gen, q, m, profile, np.flatnonzero(m.total > 0))
    rules = ranking.default_rules()
    ranked = c.ids[top_k(ranking.sort_keys(c, rules), None, gen.order[c.ids])]
    keys = [tuple(np.atleast_1d(r.key(c)[c.ids.searchsorted(d)]) for r in rules if r.applies(c)) for d in ranked]
    assert keys == sorted(keys)  # lexicographic by the rules, in order
    for d in ranked:
        e = explain_doc(c, rules, int(d))
        assert e["rules"]["score"]["bm25f"] == pytest.approx(float(m.total[d]), abs=1e-3)
        if e["parent"] is None and not q.question:
            assert sum(s["score"] for s in e["slots"]) == pytest.approx(float(m.total[d]), abs=2e-3)
