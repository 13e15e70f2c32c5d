"""Every file of a generation, and its directory, is fsynced before CURRENT names it."""

import os
from pathlib import Path

import pytest

from kb import generations
from kb.indexer import build

from .conftest import copy_all_articles, simple_article, write_article

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/self/fd (Linux)")


@pytest.fixture
def journal(monkeypatch):
    """Records ``("fsync", path)`` and ``("replace", destination)`` in the order they happen."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.path.realpath(os.readlink(f"/proc/self/fd/{fd}"))))
        return real_fsync(fd)

    def replace(src, dst, *args, **kwargs):
        events.append(("replace", os.path.realpath(dst)))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


def synced_before_current(events, index):
    """The paths fsynced before the last switch of ``index/CURRENT``."""
    current = os.path.realpath(index / generations.CURRENT)
    last = max(i for i, (kind, path) in enumerate(events) if kind == "replace" and path == current)
    return {path for kind, path in events[:last] if kind == "fsync"}


def assert_generation_durable(events, index):
    gen = generations.current_path(index)
    synced = synced_before_current(events, index)
    files = {os.path.realpath(p) for p in gen.rglob("*") if p.is_file()}
    assert any(p.endswith(".seg") or "_MAIN_" in p for p in files)  # Whoosh's own files are among them
    assert files <= synced, sorted(files - synced)
    assert os.path.realpath(gen) in synced
    assert os.path.realpath(index) in synced


def test_a_full_build_is_on_disk_before_it_is_current(tmp_path, journal):
    articles = copy_all_articles(tmp_path / "articles")
    build(articles, tmp_path / "index")
    assert_generation_durable(journal, tmp_path / "index")


def test_an_incremental_build_is_on_disk_before_it_is_current(tmp_path, journal):
    articles = copy_all_articles(tmp_path / "articles")
    build(articles, tmp_path / "index")
    write_article(articles, "zinc.md", simple_article("Zinc", "Zinc and fertility."))
    journal.clear()
    report = build(articles, tmp_path / "index")
    assert report.mode == "incremental"
    assert_generation_durable(journal, tmp_path / "index")
