"""The semantic ranking stage (kb.search.fusion) on a deterministic fake embedder, and on the real model."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.indexer import build
from kb.presentation import search_body
from kb.search import Engine, RankingProfile, fusion
from kb.semantic import FakeEmbedder, available, embedder_for, loader_for
from kb.semantic.fusion import question_like

from .conftest import copy_all_articles, write_article

SICKNESS = """
---
title: Morning sickness
slug: sickness
---

Many women feel sick in early pregnancy.

## Frequently Asked Questions

### What helps in the first weeks?

Rest: women cope with nausea and vomiting.
"""
#: Pages that make the visitor's common words common.
FILLERS = [
    (
        f"filler{i}.md",
        f"---\ntitle: Note {i}\nslug: note{i}\n---\n\nNausea after surgery, anaesthesia, migraine or food poisoning; vomiting after chemotherapy or travel.\n",
    )
    for i in range(4)
]
SEVERE = """
---
title: Severe hyperemesis
slug: severe
---

Hyperemesis: admission, drips, ketones, thiamine, weight loss, dehydration, hospital, hyperemesis.
"""
HYPEREMESIS = """
---
title: Hyperemesis
slug: hyperemesis
---

A rare condition of pregnancy: admission, drips, ketones, thiamine, weight loss, dehydration, hospital.
"""
#: A question: lexically the page repeating the rare word wins; the FAQ shares the visitor's other words.
QUESTION = "how do i cope with nausea and vomiting and hyperemesis"


def make_index(root, *articles):
    articles_dir = root / "articles"
    for name, text in articles:
        write_article(articles_dir, name, text)
    build(articles_dir, root / "index", embedder=FakeEmbedder())
    return root / "index"


@pytest.fixture
def engines(tmp_path):
    """``make(*articles) -> (lexical engine, engine with the stage)`` over one index with fake vectors."""
    made = []

    def make(*articles):
        index = make_index(tmp_path, *articles)
        pair = Engine(index, reload_seconds=0), Engine(index, reload_seconds=0, semantic=FakeEmbedder())
        made.extend(pair)
        return pair

    yield make
    for e in made:
        e.close()


def ids(results):
    return [h.id for h in results.hits]


def test_the_stage_moves_the_faq_that_shares_the_visitors_words_up(engines):
    lexical, hybrid = engines(("sickness.md", SICKNESS), ("severe.md", SEVERE), *FILLERS)
    assert question_like(QUESTION)
    faq = "sickness#what-helps-in-the-first-weeks"
    before, after = ids(lexical.search(QUESTION)), ids(hybrid.search(QUESTION))
    assert after.index(faq) < before.index(faq), (before, after)
    assert sorted(before) == sorted(after)  # a reranking: nothing added, nothing dropped


def test_the_stage_never_moves_a_near_miss_above_a_title_the_query_names(engines, monkeypatch):
    lexical, _ = engines(("sickness.md", SICKNESS), ("hyperemesis.md", HYPEREMESIS), *FILLERS)
    cosine_only = RankingProfile().with_overrides(semantic_weight=1.0)  # the strongest pull there is

    def rank_of_title(protect=True):
        if not protect:
            monkeypatch.setattr(fusion, "_keep_named_titles", lambda order, protected: order)
        hybrid = Engine(lexical.index_dir, reload_seconds=0, semantic=FakeEmbedder(), profile=cosine_only)
        try:
            return ids(hybrid.search(QUESTION)).index("hyperemesis")
        finally:
            hybrid.close()

    assert ids(lexical.search(QUESTION)).index("hyperemesis") == rank_of_title() == 0
    assert rank_of_title(protect=False) > 0  # without the protection a near-miss would pass it


def test_explain_shows_the_cosine_and_the_fused_position(engines):
    _, hybrid = engines(("sickness.md", SICKNESS), ("severe.md", SEVERE), *FILLERS)
    hits = hybrid.search(QUESTION, explain=True).hits
    # Fused positions before topic diversity (a later stage) may move a hit on the page.
    assert sorted(h.explain["semantic"]["fused_position"] for h in hits) == list(range(1, len(hits) + 1))
    assert all(-1.0 <= h.explain["semantic"]["cosine"] <= 1.0 for h in hits)
    assert any(h.explain["semantic"]["lexical_position"] != h.explain["semantic"]["fused_position"] for h in hits)
    from kb.presentation import explanation_lines

    assert any(line.startswith("semantic: cosine ") for line in explanation_lines(hits[0].explain))


def test_a_query_that_is_no_question_is_answered_byte_for_byte_as_without_the_stage(engines, tmp_path):
    lexical, hybrid = engines(("sickness.md", SICKNESS), ("severe.md", SEVERE))
    for q in ("nausea", "hyperemesis", "morning sickness", "vomitting", "sick"):
        assert not question_like(q)
        for kw in ({}, {"explain": True}, {"group": "article"}, {"kind": "faq"}):
            a, b = search_body(lexical.search(q, **kw)), search_body(hybrid.search(q, **kw))
            a.pop("took_ms", None), b.pop("took_ms", None)
            assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@pytest.fixture(scope="module")
def fixture_engines(tmp_path_factory):
    root = tmp_path_factory.mktemp("fusion")
    articles = copy_all_articles(root / "articles")
    build(articles, root / "index", embedder=FakeEmbedder())
    pair = Engine(root / "index", reload_seconds=0), Engine(root / "index", reload_seconds=0, semantic=FakeEmbedder())
    yield pair
    for e in pair:
        e.close()


WORDS = ["ivf", "egg", "retrieval", "pain", "miscarriage", "causes", "endometriosis", "what", "how", "is", "the", "of"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6), st.booleans())
def test_engine_output_is_identical_with_and_without_the_stage_whenever_the_gate_is_closed(fixture_engines, ws, ex):
    lexical, hybrid = fixture_engines
    q = " ".join(ws)
    a, b = search_body(lexical.search(q, explain=ex)), search_body(hybrid.search(q, explain=ex))
    a.pop("took_ms", None), b.pop("took_ms", None)
    if question_like(q):
        assert a["total"] == b["total"]
    else:
        assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_vectors_of_another_model_leave_search_lexical(engines):
    lexical, _ = engines(("sickness.md", SICKNESS), ("severe.md", SEVERE))
    other = Engine(lexical.index_dir, reload_seconds=0, semantic=FakeEmbedder(model_id="another-model"))
    try:
        assert ids(other.search(QUESTION)) == ids(lexical.search(QUESTION))
        assert other.health()["search"] == {"mode": "lexical"}
    finally:
        other.close()


def test_health_says_which_mode_is_on(engines):
    lexical, hybrid = engines(("sickness.md", SICKNESS), ("severe.md", SEVERE))
    assert lexical.health()["search"] == {"mode": "lexical"}
    assert hybrid.health()["search"] == {"mode": "hybrid", "model": FakeEmbedder().model_id}


def test_kb_semantic_off_or_a_bad_value(tmp_path):
    from kb.config import Config

    assert loader_for(Config(semantic="off")) is None and embedder_for(Config(semantic="off")) is None
    with pytest.raises(ValueError, match="KB_SEMANTIC"):
        loader_for(Config(semantic="sometimes"))


@pytest.mark.skipif(not available(), reason="the semantic extra (onnxruntime, tokenizers) is not installed")
def test_the_packaged_model_moves_the_faq_in_the_visitors_own_words_up(tmp_path):
    from kb.config import Config
    from kb.semantic import SemanticUnavailable

    try:
        embedder = embedder_for(Config(semantic="on"))
    except SemanticUnavailable as e:
        pytest.skip(f"no packaged model: {e}")
    articles = copy_all_articles(tmp_path / "articles")
    write_article(articles, "sickness.md", SICKNESS)
    write_article(articles, "severe.md", SEVERE)
    build(articles, tmp_path / "index", embedder=embedder)
    lexical = Engine(tmp_path / "index", reload_seconds=0)
    hybrid = Engine(tmp_path / "index", reload_seconds=0, semantic=lambda: embedder)
    try:
        q = "what helps when i keep throwing up and feel sick every morning"
        faq = "sickness#what-helps-in-the-first-weeks"
        after = ids(hybrid.search(q))
        assert faq in after[:2], after
        assert hybrid.health()["search"] == {"mode": "hybrid", "model": embedder.model_id}
        assert ids(lexical.search("ivf")) == ids(hybrid.search("ivf"))
    finally:
        lexical.close(), hybrid.close()


def test_health_and_explain_in_hybrid_mode_match_the_openapi_document(tmp_path):
    import falcon.testing
    from jsonschema import Draft202012Validator

    from kb.config import Config
    from kb.web import create_app

    from .test_openapi import DOC_URI, REGISTRY

    def check(value, schema):
        ref = {"$ref": f"{DOC_URI}#/components/schemas/{schema}"}
        Draft202012Validator(ref, registry=REGISTRY).validate(value)

    index = make_index(tmp_path, ("sickness.md", SICKNESS), ("severe.md", SEVERE), *FILLERS)
    engine = Engine(index, reload_seconds=0, semantic=FakeEmbedder())
    try:
        client = falcon.testing.TestClient(create_app(Config(index_dir=index), engine=engine))
        health = client.simulate_get("/health").json
        assert health["search"] == {"mode": "hybrid", "model": FakeEmbedder().model_id}
        check(health, "Health")
        body = client.simulate_get("/search", params={"q": QUESTION, "explain": "true"}).json
        assert body["results"] and all("semantic" in h["explain"] for h in body["results"])
        check(body["results"][0]["explain"], "Explanation")
    finally:
        engine.close()


def test_kb_index_shows_the_embedding_progress_with_the_time_left():
    import io

    from kb.cli import EmbedProgress

    out = io.StringIO()
    show = EmbedProgress(out, enabled=True)
    show(64, 200, 75.4)
    show(200, 200, 0.0)
    assert "64/200 texts, about 1:15 left" in out.getvalue() and out.getvalue().endswith("\n")
    quiet = io.StringIO()
    EmbedProgress(quiet, enabled=False)(1, 2, 3.0)
    assert quiet.getvalue() == ""


def test_kb_index_with_kb_semantic_off_writes_no_vectors_and_on_without_a_model_is_an_error(tmp_path, monkeypatch):
    from kb import generations
    from kb.cli import main
    from kb.semantic.store import FILES

    articles = copy_all_articles(tmp_path / "articles")
    assert main(["index", "--articles", str(articles), "--index", str(tmp_path / "index"), "--quiet"]) == 0
    gen = generations.current_path(tmp_path / "index")
    assert not any((gen / name).exists() for name in FILES)
    monkeypatch.setenv("KB_SEMANTIC", "on")
    monkeypatch.setenv("KB_EMBEDDING_MODEL", str(tmp_path / "no-such-model"))
    assert main(["index", "--articles", str(articles), "--index", str(tmp_path / "index"), "--quiet"]) == 1


def test_an_article_put_through_the_api_keeps_the_generation_hybrid(tmp_path):
    import falcon.testing

    from kb.config import Config
    from kb.web import create_app

    index = make_index(tmp_path, ("sickness.md", SICKNESS), ("severe.md", SEVERE), *FILLERS)
    config = Config(
        articles_dir=tmp_path / "articles", index_dir=index, data_dir=tmp_path / "data", api_keys="write:w-s3cret"
    )
    engine = Engine(index, reload_seconds=0, semantic=FakeEmbedder())
    try:
        client = falcon.testing.TestClient(create_app(config, engine=engine))
        body = "---\ntitle: Heartburn\n---\n\nHeartburn in pregnancy.\n"
        r = client.simulate_put("/articles/heartburn", body=body, headers={"Authorization": "Bearer w-s3cret"})
        assert r.status_code in (200, 201), r.text
        engine.wait_for_generation(r.json["build"]["generation"])
        assert client.simulate_get("/health").json["search"]["mode"] == "hybrid"
    finally:
        engine.close()
