"""Caches bounded in bytes: the result cache, the stem cache, their accounting."""

import random
import string
import sys
import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from kb.bounded import BoundedLRU, deep_size
from kb.indexer import build
from kb.search import Engine, Hit, Results
from kb.store.schema import ANALYZER
from kb.text import Analyzer

from .conftest import copy_all_articles


def test_deep_size_counts_what_a_dataclass_holds():
    def hit(snippet):
        return Hit(id="a", kind="faq", slug="a", title="A", url="/a", snippet=snippet, score=1.0)

    assert 10_000 <= deep_size(hit("x" * 10_001)) - deep_size(hit("x")) < 10_100
    assert deep_size(Results(query="q", total=1, took_ms=0, hits=[hit("y" * 5000)])) > 5000


@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 3000)), max_size=200))
def test_lru_never_holds_more_than_its_bytes(puts):
    cache = BoundedLRU(20_000)
    for key, length in puts:
        cache.put(key, "x" * length)
        assert cache.bytes <= 20_000
        assert cache.bytes == sum(deep_size(k) + deep_size(cache.get(k)) for k in list(cache._data))


def test_lru_evicts_least_recently_used():
    one = deep_size("a") + deep_size("x" * 100)
    cache = BoundedLRU(3 * one)
    for key in "abc":
        cache.put(key, "x" * 100)
    assert cache.get("a")  # a is now the most recent
    cache.put("d", "x" * 100)
    assert cache.get("b") is None and cache.get("a") and cache.get("d")


def test_lru_is_safe_across_threads():
    cache = BoundedLRU(50_000)

    def hammer(n):
        for i in range(2000):
            cache.put((n, i % 97), "v" * (i % 500))
            cache.get((n, (i * 7) % 97))

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.bytes <= 50_000 and cache.hits + cache.misses == 8000


def test_result_cache_is_bounded_in_bytes(tmp_path):
    articles, index = tmp_path / "a", tmp_path / "i"
    copy_all_articles(articles)
    build(articles, index)
    engine = Engine(index, cache_mb=0.05)  # 52 KB: a few answers
    for n in range(60):
        engine.search(f"miscarriage ivf {n}", limit=50, group="article")
        engine.search(f"pregnancy {n}", limit=50)
    hits, misses, held = engine.cache_stats()
    assert 0 < held <= 0.05 * (1 << 20)
    assert misses == 120 and hits == 0
    engine.search("pregnancy 59", limit=50)
    assert engine.cache_stats()[0] == 1


def test_cached_and_uncached_answers_agree(tmp_path):
    """A small cache (evicting all the time) answers exactly as no cache, the first time and the second."""
    articles, index = tmp_path / "a", tmp_path / "i"
    copy_all_articles(articles)
    build(articles, index)
    cached, uncached = Engine(index, cache_mb=0.1), Engine(index, cache_mb=0)
    words = ["miscarriage", "ivf", "egg", "endometriosis", "pain", "misc", "pregnancy", "test", "zzq", "what"]

    def answer(engine, q, limit, group):
        d = engine.search(q, limit=limit, group=group).as_dict()
        d.pop("took_ms")
        return d

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(st.sampled_from(words), min_size=1, max_size=3).map(" ".join),
        st.sampled_from([1, 3, 10, 50]),
        st.sampled_from([None, "article"]),
    )
    def agree(q, limit, group):
        expected = answer(uncached, q, limit, group)
        assert answer(cached, q, limit, group) == expected
        assert answer(cached, q, limit, group) == expected  # now from the cache, or evicted already

    agree()
    assert cached.cache_stats()[0] > 0 and cached.cache_stats()[2] <= 0.1 * (1 << 20)


def test_stem_cache_skips_absurd_words_and_stays_bounded():
    analyzer = Analyzer(ANALYZER._stem, cache_bytes=20_000)
    assert analyzer.term("x" * 9000) == "x" * 9000
    assert analyzer._cache == {}
    for n in range(2000):
        analyzer.term(f"word{n}s")
        assert analyzer._cached <= 20_000
    assert sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in analyzer._cache.items()) <= 20_000
    assert analyzer.term("word1999s") == ANALYZER.term("word1999s")


def test_unique_long_words_leave_nothing_behind(tmp_path):
    """Each query of never-seen 3,000-letter words once left its terms in the posting cache for good."""
    articles, index = tmp_path / "a", tmp_path / "i"
    copy_all_articles(articles)
    build(articles, index)
    engine = Engine(index, cache_mb=0)
    engine.search("miscarriage ivf")
    gen = engine.generations.serving()
    postings_before, stems_before = len(gen._postings), len(ANALYZER._cache)
    rng = random.Random(5)
    for _ in range(30):
        engine.search("".join(rng.choice(string.ascii_lowercase) for _ in range(3000)))
    assert len(gen._postings) == postings_before
    assert len(ANALYZER._cache) <= stems_before
