"""The README's API examples are real output.

Every ``curl`` example in README.md followed by a JSON block is run against an
index of the repository's own ``articles/`` (the clinic article), through the
real app; the JSON shown must be what kb returns, except the values that change
from run to run (timings, generation names, build times, process ids).
"""

import json
import re
import shutil
from urllib.parse import urlsplit

import pytest
from falcon import testing

from kb.config import Config
from kb.indexer import build
from kb.web import create_app

from .conftest import REAL_ARTICLES, REPO

#: Values that differ from run to run: compared by presence only.
VOLATILE = {"took_ms", "generation", "built_at", "build_seconds", "pid"}
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)


def examples():
    """``[(curl url, json text)]``: each ``curl`` block and the ``json`` block right after it."""
    blocks = BLOCK.findall((REPO / "README.md").read_text("utf-8"))
    found = []
    for (lang, text), (next_lang, next_text) in zip(blocks, blocks[1:]):
        urls = re.findall(r"^curl (?:-s )?'?(http://127\.0\.0\.1:8080[^'\s]*)'?$", text, re.M)
        if lang == "sh" and len(urls) == 1 and next_lang == "json":
            found.append((urls[0], next_text))
    return found


def same(shown, real, path="$"):
    """Assert ``shown`` (the README's) equals ``real`` but for volatile values."""
    if isinstance(shown, dict):
        assert isinstance(real, dict) and set(shown) == set(real), (path, sorted(shown), sorted(real))
        for k in shown:
            if k not in VOLATILE:
                same(shown[k], real[k], f"{path}.{k}")
    elif isinstance(shown, list):
        assert isinstance(real, list) and len(shown) == len(real), (path, shown, real)
        for i, (a, b) in enumerate(zip(shown, real)):
            same(a, b, f"{path}[{i}]")
    else:
        assert shown == real, (path, shown, real)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("readme")
    shutil.copytree(REAL_ARTICLES, root / "articles")
    assert build(root / "articles", root / "index").ok
    return testing.TestClient(create_app(Config(articles_dir=root / "articles", index_dir=root / "index")))


def test_the_readme_has_api_examples():
    paths = {urlsplit(url).path for url, _ in examples()}
    assert {"/search", "/suggest", "/health"} <= paths


@pytest.mark.parametrize("url, shown", examples(), ids=[u for u, _ in examples()])
def test_readme_json_example_is_real_output(client, url, shown):
    parts = urlsplit(url)
    r = client.simulate_get(parts.path, query_string=parts.query)
    same(json.loads(shown), r.json)
