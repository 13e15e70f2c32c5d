"""The kb command (kb.cli.main), scripts/reindex.py and `python -m kb`."""

import json
import os
import re
import subprocess
import sys

import pytest
from falcon import testing

from kb import generations
from kb.cli import build_parser, main
from kb.config import Config
from kb.web import create_app

from .conftest import CLINIC_SLUG, REPO, generation_dirs, write_article

SUMMARY_RE = re.compile(
    r"^(full|incremental) build: (\d+) articles, (\d+) sections, (\d+) FAQ entries "
    r"\((\d+) added, (\d+) changed, (\d+) removed, (\d+) unchanged\); (\d+) problems; [\d.]+ s; generation (gen-\S+)$"
)
SUBPROCESS_TIMEOUT = 60


def subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return action.choices


def clean_env():
    """The environment for a subprocess: no KB_* settings but KB_SEMANTIC=off (lexical), kb importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env["KB_SEMANTIC"] = "off"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    return env


def run(args, cwd):
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )


def index_args(articles, index, *more):
    return ["index", "--articles", str(articles), "--index", str(index), "--quiet", *more]


# -- kb index -------------------------------------------------------------------


def test_index_prints_the_summary_and_returns_0(articles_dir, index_dir, capsys):
    assert main(index_args(articles_dir, index_dir)) == 0
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    m = SUMMARY_RE.match(lines[-1])
    assert m, out
    assert m.groups()[:9] == ("full", "4", "2", "9", "4", "0", "0", "0", "0")
    assert m.group(10) == generations.current_name(index_dir)
    assert err == ""


def test_index_again_is_incremental(articles_dir, index_dir, capsys):
    assert main(index_args(articles_dir, index_dir)) == 0
    assert main(index_args(articles_dir, index_dir)) == 0
    m = SUMMARY_RE.match(capsys.readouterr().out.strip().splitlines()[-1])
    assert m.group(1) == "incremental" and m.group(8) == "4"
    assert main(index_args(articles_dir, index_dir, "--full")) == 0
    m = SUMMARY_RE.match(capsys.readouterr().out.strip().splitlines()[-1])
    assert m.group(1) == "full"


def test_index_with_a_broken_article_returns_1(articles_dir, index_dir, capsys):
    bad = write_article(
        articles_dir, "broken.md", "---\ntitle: Broken\n---\nLead.\n\n## FAQ\n\n### Empty?\n\n## Next\n\nText.\n"
    )
    assert main(index_args(articles_dir, index_dir)) == 1
    out, err = capsys.readouterr()
    assert f"{bad}:8: " in err
    assert re.search(rf"^{re.escape(str(bad))}:8: .*empty answer", err, re.M)
    m = SUMMARY_RE.match(out.strip().splitlines()[-1])
    assert m and m.group(2) == "4" and m.group(9) == "1"  # the others are indexed


def test_index_without_articles_dir_fails(tmp_path, capsys):
    assert main(index_args(tmp_path / "missing", tmp_path / "index")) == 1
    assert "kb: error:" in capsys.readouterr().err
    assert generations.current_name(tmp_path / "index") is None


def test_index_reads_kb_environment(articles_dir, index_dir, monkeypatch, capsys):
    monkeypatch.setenv("KB_ARTICLES_DIR", str(articles_dir))
    monkeypatch.setenv("KB_INDEX_DIR", str(index_dir))
    assert main(["index", "--quiet"]) == 0
    assert generations.current_name(index_dir) is not None


# -- kb search ------------------------------------------------------------------


@pytest.fixture
def indexed(articles_dir, index_dir, capsys):
    assert main(index_args(articles_dir, index_dir)) == 0
    capsys.readouterr()
    return index_dir


def test_search_prints_ranked_results(indexed, capsys):
    assert main(["search", "miscarriage", "--index", str(indexed)]) == 0
    out = capsys.readouterr().out
    assert re.match(r"^\d+ results for 'miscarriage'", out)
    # "N. [kind] title  (score S)" then the url on the next line
    numbered = re.findall(r"^(\d+)\. \[(article|section|faq)\] (.+?)  \(score [\d.]+\)\n\s+(\S+)$", out, re.M)
    assert [int(n) for n, *_ in numbered] == list(range(1, len(numbered) + 1))
    assert len(numbered) >= 5
    urls = [url for *_, url in numbered]
    assert urls[0].startswith(f"/articles/{CLINIC_SLUG}")  # the clinic's article or FAQ first
    assert f"/articles/{CLINIC_SLUG}" in urls
    # the answer card (printed above the results, not repeated among them)
    assert f"\n   /articles/{CLINIC_SLUG}#what-is-recurrent-miscarriage\n" in out
    assert "<mark>" not in out  # not HTML on a terminal


def test_search_json(indexed, capsys):
    assert main(["search", "miscarriage", "--index", str(indexed), "--json", "--kind", "faq", "--limit", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["query"] == "miscarriage"
    assert data["total"] >= 4
    assert 0 < len(data["results"]) <= 3
    for r in data["results"]:
        assert r["kind"] == "faq"
        assert {"id", "slug", "title", "url", "snippet", "score"} <= set(r)
    # The API's JSON, as --help says: every field of GET /search's body.
    api = testing.TestClient(create_app(Config(index_dir=indexed))).simulate_get(
        "/search", params={"q": "miscarriage", "kind": "faq", "limit": "3"}
    )
    assert set(data) == set(api.json)
    assert {k: v for k, v in data.items() if k != "took_ms"} == {k: v for k, v in api.json.items() if k != "took_ms"}


def test_search_prints_the_answer_card_and_did_you_mean_like_the_page(indexed, capsys):
    assert main(["search", "is egg retrievel painful", "--index", str(indexed)]) == 0
    out = capsys.readouterr().out
    assert "Did you mean: egg [retrieval] painful?" in out
    assert "Answer from In Vitro Fertilisation: Is [egg] [retrieval] [painful]?" in out
    assert "\n   /articles/ivf#is-egg-retrieval-painful\n" in out
    # the card's entry is not listed again as a result
    assert not re.search(r"^\d+\. \[faq\] Is egg retrieval painful\?", out, re.M)


def test_search_says_when_no_match_is_a_strong_one(indexed, capsys):
    assert main(["search", "blood garage", "--index", str(indexed)]) == 0
    out = capsys.readouterr().out
    assert "No article mentions: garage." in out
    assert "none is a strong one (confidence: low)" in out


def test_version(capsys):
    from kb import __version__

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"kb {__version__}"


def test_search_explain_prints_rules_and_bm25f_per_term_and_field(indexed, capsys):
    assert (
        main(
            [
                "search",
                "recurrent miscarriage",
                "--index",
                str(indexed),
                "--explain",
                "--limit",
                "2",
                "--kind",
                "article",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert out.count("rules: words_matched ") == 2  # each result explained
    assert "rules: words_matched 2; typos 0; score (value " in out
    assert re.search(r"^\s+'miscarriage': [\d.]+ via exact$", out, re.M)
    assert re.search(r"^\s+miscarriag: [\d.]+ \(idf [\d.]+, df \d+, tf [\d.]+; .*title [\d.]+", out, re.M)


def test_search_without_index_fails_with_a_hint(tmp_path, capsys):
    assert main(["search", "ivf", "--index", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kb: error:")
    assert "kb index" in err


def test_search_bad_limit_is_an_error(indexed, capsys):
    assert main(["search", "ivf", "--index", str(indexed), "--limit", "0"]) == 1
    assert "limit" in capsys.readouterr().err


# -- help and README --------------------------------------------------------------

HELP_OPTIONS = {
    None: ["index", "search", "serve"],
    "index": ["--articles", "--index", "--full", "--quiet"],
    "search": ["--index", "--limit", "--kind", "--json"],
    "serve": ["--host", "--port", "--threads", "--index", "--articles"],
}


def own_options(command):
    """The long options a subcommand's parser defines (all of them must be in its help)."""
    if command is None:
        return []
    parser = subcommands()[command]
    return [o for a in parser._actions for o in a.option_strings if o.startswith("--") and o != "--help"]


@pytest.mark.parametrize("command", [None, *sorted(subcommands())], ids=lambda c: c or "kb")
def test_help_exits_0_and_mentions_options(command, capsys):
    with pytest.raises(SystemExit) as info:
        main(([command] if command else []) + ["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in HELP_OPTIONS.get(command, []) + own_options(command):
        assert option in out
    assert "Example" in out


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in subcommands():
        assert command in out


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_readme_documents_every_subcommand(command):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"\bkb {command}\b", readme), f"README.md never mentions `kb {command}`"


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2


# -- subprocesses: the staff script, and a concurrent build ------------------------


def test_reindex_script(articles_dir, index_dir, tmp_path):
    proc = run(
        [str(REPO / "scripts" / "reindex.py"), "--articles", str(articles_dir), "--index", str(index_dir), "--quiet"],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    m = SUMMARY_RE.match(proc.stdout.strip().splitlines()[-1])
    assert m and m.group(2) == "4"
    assert m.group(10) == generations.current_name(index_dir)


def test_second_concurrent_reindex_is_refused(articles_dir, index_dir, tmp_path):
    assert main(index_args(articles_dir, index_dir)) == 0
    before = generations.current_name(index_dir)
    write_article(articles_dir, "ivf.md", "---\ntitle: IVF\nslug: ivf\n---\nChanged.\n")
    with generations.write_lock(index_dir):
        proc = run(["-m", "kb", *index_args(articles_dir, index_dir)], tmp_path)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert re.search(r"kb: error: another `?kb index`?", proc.stderr), proc.stderr
    assert f"pid {os.getpid()}" in proc.stderr
    assert generations.current_name(index_dir) == before
    assert generation_dirs(index_dir) == [before]
