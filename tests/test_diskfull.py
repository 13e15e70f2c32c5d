"""A full disk (or another OS error) during ``kb index``: a clear message, no stray files, exit 1.

Two ways: ``ENOSPC`` raised at each place a build writes (Whoosh's segment
files, kb's JSON files and their fsync, the ``CURRENT`` switch, the reader
lock, the generation directory), and, when the tests run as root, a real tiny
tmpfs that fills up.
"""

import builtins
import errno
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from whoosh.filedb import structfile

from kb import generations
from kb.cli import main
from kb.search import Engine

from .conftest import copy_all_articles, simple_article, write_article


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def fail_segments(monkeypatch):
    monkeypatch.setattr(structfile.StructFile, "write", no_space)


def fail_fsync(monkeypatch):
    monkeypatch.setattr(os, "fsync", no_space)


def fail_current(monkeypatch):
    """The temporary CURRENT file is created, then writing it fails."""

    def fake_open(file, mode="r", *args, **kwargs):
        f = builtins.open(file, mode, *args, **kwargs)
        if Path(file).name.startswith(f".{generations.CURRENT}."):
            f.write = no_space
        return f

    monkeypatch.setattr(generations, "open", fake_open, raising=False)


def fail_reader_lock(monkeypatch):
    real = os.open

    def fake(path, flags, *args, **kwargs):
        if str(path).endswith(generations.READERS_LOCK) and flags & os.O_CREAT and not os.path.exists(path):
            no_space()
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake)


def fail_mkdir(monkeypatch):
    real = Path.mkdir

    def fake(self, *args, **kwargs):
        if self.name.startswith(generations.PREFIX):
            no_space()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", fake)


FAILURES = [fail_segments, fail_fsync, fail_current, fail_reader_lock, fail_mkdir]


def listing(directory):
    """Every path under ``directory`` (relative), with the content of CURRENT."""
    directory = Path(directory)
    if not directory.exists():
        return set()
    found = {p.relative_to(directory).as_posix() for p in directory.rglob("*")}
    current = directory / generations.CURRENT
    if current.exists():
        found.add("CURRENT=" + current.read_text().strip())
    return found


def run_index(articles, index, capsys, *flags):
    status = main(["index", "--articles", str(articles), "--index", str(index), "--quiet", *flags])
    out, err = capsys.readouterr()
    return status, out, err


def assert_clear_error(status, err):
    assert status == 1
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0].startswith("kb: error: ") and "No space left on device" in lines[0], err
    assert lines[1].startswith("hint: free some space on the disk holding "), err
    assert len(lines) == 2, err


@pytest.mark.parametrize("fail", FAILURES, ids=lambda f: f.__name__)
def test_a_full_disk_on_the_first_build(tmp_path, monkeypatch, capsys, fail):
    articles = copy_all_articles(tmp_path / "articles")
    index = tmp_path / "index"
    fail(monkeypatch)
    status, _, err = run_index(articles, index, capsys)
    monkeypatch.undo()
    assert_clear_error(status, err)
    assert listing(index) <= {generations.WRITE_LOCK}  # nothing half-written, no CURRENT
    status, _, err = run_index(articles, index, capsys)  # disk freed: the next build works
    assert status == 0, err


@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full"])
@pytest.mark.parametrize("fail", FAILURES, ids=lambda f: f.__name__)
def test_a_full_disk_leaves_the_served_generation_alone(tmp_path, monkeypatch, capsys, fail, full):
    articles = copy_all_articles(tmp_path / "articles")
    index = tmp_path / "index"
    assert run_index(articles, index, capsys)[0] == 0
    before = listing(index)
    engine = Engine(index, reload_seconds=0.0)
    try:
        found = [h.id for h in engine.search("ivf").hits]
        write_article(articles, "zinc.md", simple_article("Zinc", "Zinc and fertility."))
        fail(monkeypatch)
        status, _, err = run_index(articles, index, capsys, *(["--full"] if full else []))
        monkeypatch.undo()
        assert_clear_error(status, err)
        assert listing(index) == before
        assert [h.id for h in engine.search("ivf").hits] == found
        assert engine.search("zinc").total == 0
    finally:
        engine.close()
    assert run_index(articles, index, capsys)[0] == 0
    engine = Engine(index)
    try:
        assert engine.search("zinc").total >= 1
    finally:
        engine.close()


def test_other_os_errors_say_what_to_do(tmp_path, monkeypatch, capsys):
    articles = copy_all_articles(tmp_path / "articles")

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp_path / "index"))

    monkeypatch.setattr(generations, "new_generation", denied)
    status, _, err = run_index(articles, tmp_path / "index", capsys)
    assert status == 1 and "Traceback" not in err
    assert err.startswith(f"kb: error: Permission denied: {tmp_path / 'index'}\nhint: check that this user may write")


# -- a real full disk: a tiny tmpfs (needs root) -------------------------------------


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MB tmpfs mounted at ``tmp_path/disk``; skipped where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def wordy_articles(directory, count, seed=0):
    """``count`` articles of 1,500 distinct-ish words each: an index that needs room."""
    rng = random.Random(seed)
    stems = ["iron", "folate", "zinc", "ovary", "embryo", "uterus", "hormone", "cycle", "thyroid", "placenta"]
    for n in range(count):
        text = " ".join(f"{rng.choice(stems)}{rng.randrange(100_000)}" for _ in range(1500))
        write_article(directory, f"w{seed}-{n:03d}.md", simple_article(f"Wordy {seed} {n}", text))


def test_a_real_full_disk(tmp_path, tiny_disk, capsys):
    articles = copy_all_articles(tmp_path / "articles")
    index = tiny_disk / "index"
    assert run_index(articles, index, capsys)[0] == 0
    before = listing(index)
    wordy_articles(articles, 60)  # far more than the disk has room for
    status, _, err = run_index(articles, index, capsys)
    assert_clear_error(status, err)
    assert listing(index) == before
    engine = Engine(index)
    try:
        assert engine.search("ivf").total >= 1
    finally:
        engine.close()
