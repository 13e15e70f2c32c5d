"""kb.search.Engine: ranking, kind filter, paging, snippets, escaping, totals, errors."""

import re
import threading
import time

import pytest

from kb import generations
from kb.errors import BadQuery, IndexMissing, NotFound
from kb.indexer import build
from kb.search import Engine

from .conftest import write_article

#: every "<" in a snippet or title_html must open or close a <mark>
ONLY_MARK = re.compile(r"<(?!/?mark>)")

ARTICLES = {
    "quokka.md": """\
        ---
        title: Quokka
        tags: [marsupial]
        ---

        A small marsupial from Rottnest Island.

        ## Frequently Asked Questions

        ### What do quokkas eat?

        Leaves and grasses from the clinic garden.
        """,
    "island.md": """\
        ---
        title: Island Animals
        ---

        The quokka lives on an island with many seals. Visit our clinic.

        ## Seals

        Seals rest on the clinic beach.

        ## Birds

        Birds nest near the clinic.
        """,
    "losses.md": """\
        ---
        title: Pregnancy Losses
        ---

        Two miscarriages happened before the clinic visit. Running tests helps.

        ## Frequently Asked Questions

        ### Is a miscarriage common?

        About one in five pregnancies ends early; our clinic can help.

        ### Why do clinics run tests?

        To find a cause.
        """,
    "escape.md": """\
        ---
        title: Tags & <script>alert(1)</script> sanitising
        ---

        Beware of &lt;script&gt;alert(2)&lt;/script&gt; and &lt;img src=x onerror=alert(3)&gt; when
        sanitising, plus Q&amp;A pages. Raw <script>alert(4)</script> is dropped. Clinic text.
        """,
    "long.md": """\
        ---
        title: Long Read
        ---

        {filler} The anchorword appears once here near the end of a very long paragraph. {filler}
        """,
}
FILLER = " ".join(["Filler words about nothing in particular."] * 30)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    for name, text in ARTICLES.items():
        write_article(root / "articles", name, text.replace("{filler}", FILLER))
    report = build(root / "articles", root / "index")
    assert report.ok, [str(p) for p in report.problems]
    return root / "index"


@pytest.fixture(scope="module")
def engine(index):
    engine = Engine(index, reload_seconds=60)
    yield engine
    engine.close()


def ids(results):
    return [h.id for h in results.hits]


def test_title_match_outranks_body_only_match(engine):
    """A word in the title counts for more than the same word in body text.

    BUG (kb/search.py, the DisjunctionMax query): Whoosh 2.7.5's
    DisjunctionMaxMatcher.score() returns max(a.score(), b.score()) without
    checking that both sub-matchers are on the current document, so the
    body-only "island" article gets the "quokka" article's title score (equal
    scores, and "island" first because it was indexed first).
    """
    results = engine.search("quokka")
    scores = {h.id: h.score for h in results.hits}
    assert ids(results).index("quokka") < ids(results).index("island")
    assert scores["quokka"] > scores["island"]


def test_faq_question_match_outranks_answer_only_match(engine):
    hits = ids(engine.search("miscarriage", kind="faq"))
    assert hits[0] == "losses#is-a-miscarriage-common"


def test_more_query_words_matched_ranks_higher(engine):
    hits = ids(engine.search("seals beach", kind="section"))
    assert hits[0] == "island#seals"


@pytest.mark.parametrize("kind", ["article", "section", "faq"])
def test_kind_filter(engine, kind):
    results = engine.search("clinic", kind=kind, limit=50)
    assert results.hits
    assert {h.kind for h in results.hits} == {kind}
    assert results.total == len(results.hits)


def test_kind_filter_totals_add_up(engine):
    everything = engine.search("clinic", limit=50)
    per_kind = [engine.search("clinic", kind=k, limit=50).total for k in ("article", "section", "faq")]
    assert everything.total == sum(per_kind) == len(everything.hits)
    assert all(per_kind)


def test_paging_is_consistent_with_one_big_page(engine):
    full = engine.search("clinic", limit=50)
    assert full.total >= 7
    for size in (1, 2, 3):
        paged = []
        for offset in range(0, full.total, size):
            page = engine.search("clinic", limit=size, offset=offset)
            assert page.total == full.total
            assert len(page.hits) == min(size, full.total - offset)
            paged += ids(page)
        assert paged == ids(full)
    assert engine.search("clinic", limit=5, offset=full.total).hits == []


def test_total_counts_every_match_not_just_the_page(engine):
    results = engine.search("quokka", limit=1)
    # quokka: its article, its FAQ (question says "quokkas"), island article
    assert results.total == 3
    assert len(results.hits) == 1
    assert engine.search("xyzzyplugh").total == 0


def test_hit_fields(engine):
    hit = next(h for h in engine.search("quokkas eat", limit=50).hits if h.kind == "faq")
    assert hit.id == "quokka#what-do-quokkas-eat"
    assert hit.slug == "quokka"
    assert hit.title == "What do quokkas eat?"
    assert hit.article_title == "Quokka"
    assert hit.url == "/articles/quokka#what-do-quokkas-eat"
    assert isinstance(hit.score, float) and hit.score > 0
    assert hit.title_html == "What do <mark>quokkas</mark> <mark>eat</mark>?"
    assert hit.snippet == "Leaves and grasses from the clinic garden."  # no match: the beginning


def test_snippet_marks_stemmed_forms(engine):
    results = engine.search("miscarriage", limit=50)
    article = next(h for h in results.hits if h.id == "losses")
    assert "<mark>miscarriages</mark>" in article.snippet
    faq = next(h for h in results.hits if h.id == "losses#is-a-miscarriage-common")
    assert faq.title_html == "Is a <mark>miscarriage</mark> common?"
    run = next(h for h in engine.search("run", limit=50).hits if h.id == "losses")
    assert "<mark>Running</mark>" in run.snippet


def test_snippet_is_a_window_around_the_match(engine):
    hit = engine.search("anchorword").hits[0]
    assert hit.id == "long"
    assert "<mark>anchorword</mark>" in hit.snippet
    assert len(re.sub(r"</?mark>", "", hit.snippet)) < len(FILLER)  # not the whole text


def test_snippet_and_title_escape_article_text(engine):
    results = engine.search("sanitising", limit=50)
    hit = next(h for h in results.hits if h.id == "escape")
    assert "&lt;script&gt;" in hit.snippet
    assert "Q&amp;A" in hit.snippet
    assert "<mark>sanitising</mark>" in hit.snippet
    assert hit.title_html == "Tags &amp; &lt;script&gt;alert(1)&lt;/script&gt; <mark>sanitising</mark>"
    assert hit.title == "Tags & <script>alert(1)</script> sanitising"  # plain text
    for h in results.hits:
        assert not ONLY_MARK.search(h.snippet), h.snippet
        assert not ONLY_MARK.search(h.title_html), h.title_html


@pytest.mark.parametrize(
    "q", ['"unbalanced', "AND OR NOT", "title:", "*", "?", "((((", "~~~", "^2", "a\x00b", "😀", "x" * 300]
)
def test_anything_typed_is_a_query(engine, q):
    results = engine.search(q)
    assert results.total >= 0
    for h in results.hits:
        assert not ONLY_MARK.search(h.snippet)


def test_operators_are_plain_words(engine):
    # "title:quokka" is the word title and the word quokka, not a field query
    assert "quokka" in ids(engine.search("title:quokka"))
    assert "island" in ids(engine.search('"quokka lives"'))


@pytest.mark.parametrize(
    "kwargs, parameter",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 51}, "limit"),
        ({"offset": -1}, "offset"),
        ({"kind": "foo"}, "kind"),
    ],
)
def test_bad_parameters(engine, kwargs, parameter):
    with pytest.raises(BadQuery) as info:
        engine.search("quokka", **kwargs)
    assert info.value.parameter == parameter


def test_query_too_long(engine):
    with pytest.raises(BadQuery) as info:
        engine.search("a" * 10_001)
    assert info.value.parameter == "q"


def test_article(engine):
    article = engine.article("losses")
    assert article["title"] == "Pregnancy Losses"
    assert [f["question"] for f in article["faqs"]] == ["Is a miscarriage common?", "Why do clinics run tests?"]
    assert [f["position"] for f in article["faqs"]] == [1, 2]
    assert '<h3 id="is-a-miscarriage-common">' in article["html"]
    with pytest.raises(NotFound):
        engine.article("no-such-slug")


def test_health(engine, index):
    health = engine.health()
    assert health["status"] == "ok"
    assert health["generation"] == generations.current_name(index)
    assert health["counts"] == {"article": 5, "section": 2, "faq": 3}
    assert health["documents"] == 10


def test_missing_index(tmp_path):
    engine = Engine(tmp_path / "nothing-here")
    with pytest.raises(IndexMissing):
        engine.search("quokka")
    with pytest.raises(IndexMissing):
        engine.health()


def test_index_of_no_articles(tmp_path):
    (tmp_path / "articles").mkdir()
    report = build(tmp_path / "articles", tmp_path / "index")
    assert report.ok and report.articles == 0
    engine = Engine(tmp_path / "index")
    try:
        results = engine.search("ivf")
        assert (results.total, results.hits) == (0, [])
        assert engine.health()["documents"] == 0
        with pytest.raises(NotFound):
            engine.article("ivf")
    finally:
        engine.close()


def test_engine_moves_to_a_new_generation(tmp_path):
    articles, index = tmp_path / "a", tmp_path / "i"
    write_article(articles, "x.md", "---\ntitle: X\n---\nOld ocelot text.\n")
    build(articles, index)
    engine = Engine(index, reload_seconds=0.05)
    try:
        first = engine.search("ocelot")
        assert ids(first) == ["x"]
        write_article(articles, "x.md", "---\ntitle: X\n---\nNew narwhal text.\n")
        second_gen = build(articles, index).generation
        deadline = time.monotonic() + 5
        while engine.search("narwhal").generation != second_gen and time.monotonic() < deadline:
            time.sleep(0.05)
        results = engine.search("narwhal")
        assert results.generation == second_gen != first.generation
        assert ids(results) == ["x"]
        assert ids(engine.search("ocelot")) == []
    finally:
        engine.close()


def test_searches_never_fail_while_generations_are_swapped(tmp_path):
    """Threads search while new generations are published under them.

    A generation is closed when its last request ends; a request that took the
    old generation just before the swap must still be able to finish on it.
    """
    articles, index = tmp_path / "a", tmp_path / "i"
    write_article(articles, "x.md", "---\ntitle: X\n---\nGeneration zero of the ocelot.\n")
    build(articles, index)
    engine = Engine(index, reload_seconds=0.0, cache_mb=0)
    errors, done, stop = [], [0], threading.Event()

    def hammer():
        while not stop.is_set():
            try:
                engine.search("ocelot generation")
                engine.article("x")
                done[0] += 1
            except Exception as e:  # noqa: BLE001 - any failure is the finding
                errors.append(repr(e))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for n in range(1, 6):
            write_article(articles, "x.md", f"---\ntitle: X\n---\nGeneration {n} of the ocelot.\n")
            assert engine.wait_for_generation(build(articles, index).generation)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        engine.close()
    assert errors == []
    assert done[0] > 0


def test_generations_loaded_swapped_and_failed_are_logged(tmp_path, caplog):
    """kb.search logs each generation it loads or swaps in, and a failure with its exception."""
    import logging

    articles, index = tmp_path / "a", tmp_path / "i"
    write_article(articles, "x.md", "---\ntitle: X\n---\nOcelot.\n")
    first = build(articles, index).generation
    caplog.set_level(logging.DEBUG, logger="kb.search")
    logger = logging.getLogger("kb.search")
    logger.addHandler(caplog.handler)  # kb's own configuration may stop records reaching the root
    engine = Engine(index, reload_seconds=0.0)
    try:
        assert engine.generation_name() == first
        broken = index / "gen-broken"
        broken.mkdir()
        generations.publish(index, broken)  # not an index: it cannot load
        engine.generation_name()
        deadline = time.monotonic() + 10
        while not any(r.levelno == logging.ERROR for r in caplog.records) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert engine.generation_name() == first  # still served
        write_article(articles, "x.md", "---\ntitle: X\n---\nNarwhal.\n")
        generations.publish(index, index / first)
        second = build(articles, index, full=True).generation
        assert engine.wait_for_generation(second)
    finally:
        engine.close()
        logger.removeHandler(caplog.handler)
    messages = [(r.name, r.levelname, r.getMessage(), getattr(r, "generation", None)) for r in caplog.records]
    assert ("kb.search", "DEBUG", "generation loaded", first) in messages
    assert ("kb.search", "ERROR", "generation failed to load", "gen-broken") in messages
    assert ("kb.search", "INFO", "generation swapped in", second) in messages
    failed = next(r for r in caplog.records if r.levelname == "ERROR")
    assert failed.exc_info and failed.exc_info[0] is not None


def test_engine_ranks_with_the_profile_it_is_given(built):
    from kb.search import RankingProfile

    _, index, _ = built
    default = Engine(index)
    tuned = Engine(index, profile=RankingProfile().with_settings(["k1=1.2", "parent_blend=0"]))
    try:
        a, b = default.search("egg retrieval"), tuned.search("egg retrieval")
        assert tuned.profile.k1 == 1.2 and default.profile.k1 == 3.0
        assert [h.score for h in a.hits] != [h.score for h in b.hits]
    finally:
        default.close()
        tuned.close()


def test_article_snippet_is_the_best_matching_passage_without_faq_headings(tmp_path):
    from kb.indexer import build
    from kb.search import Engine

    from .conftest import write_article

    write_article(
        tmp_path / "a",
        "ivf.md",
        """\
        ---
        title: In Vitro Fertilisation
        ---

        Eggs and sperm are joined in a laboratory.

        ## Frequently Asked Questions

        ### How long does one cycle take?

        About six weeks from stimulation to the pregnancy test.

        ### Is egg retrieval painful?

        It is done under sedation, so most women feel little discomfort afterwards.
        """,
    )
    build(tmp_path / "a", tmp_path / "i")
    engine = Engine(tmp_path / "i")
    hit = next(h for h in engine.search("sedation discomfort").hits if h.kind == "article")
    assert "<mark>sedation</mark>" in hit.snippet and "<mark>discomfort</mark>" in hit.snippet
    assert "Is egg retrieval painful?" not in hit.snippet  # a heading is not run into the text
    assert "pregnancy test" not in hit.snippet  # nor the passage before it
    hit = next(h for h in engine.search("laboratory").hits if h.kind == "article")
    assert hit.snippet == "Eggs and sperm are joined in a <mark>laboratory</mark>."
    engine.close()


def test_typo_correction_is_marked_only_where_the_typed_word_is_absent(tmp_path):
    from kb.indexer import build
    from kb.search import Engine, planner

    from .conftest import write_article

    write_article(
        tmp_path / "a", "loss.md", "---\ntitle: Pregnancy Loss\n---\n\nIn most cases the causes are unknown.\n"
    )
    write_article(tmp_path / "a", "ivf.md", "---\ntitle: IVF\n---\n\nIn some cases a second cycle is needed.\n")
    build(tmp_path / "a", tmp_path / "i")
    engine = Engine(tmp_path / "i")
    with engine.generations.acquire() as gen:  # the trap is real: "cases" is a correction of "causes" here
        slots = planner.plan(gen, "what causes pregnancy loss", engine.profile).slots
        assert any(a.how == "typo" and a.word == "cases" for a in slots[0].alts)
    hits = {h.slug: h.snippet for h in engine.search("what causes pregnancy loss").hits}
    assert hits["loss"] == "In most cases the <mark>causes</mark> are unknown."
    engine.close()
