"""Relevance evaluation for ``kb eval``: judged sets, ir-measures metrics, saved runs, comparisons.

- :mod:`.sets`: reading the site-search set, the development set and LiveQA,
  and mapping MedQuAD FAQ ids (source position) to kb's heading order;
- :mod:`.metrics`: nDCG@10, judged-only nDCG@10, RR@10, Success@1/@3, R@10 and
  Judged@10 per query with ir-measures;
- :mod:`.runs`: running a set through the engine; TREC run files and per-query JSON;
- :mod:`.report`: tables per category, the zero-result check, the confidence table;
- :mod:`.compare`: paired bootstrap and randomisation tests between two saved runs;
- :mod:`.profile`: ``--set name=value`` ranking-profile overrides.
"""

import datetime
import json
import platform
import subprocess
from pathlib import Path

from . import report, runs


def evaluate_sets(search, qsets, save_dir=None, meta=None):
    """Run every set through ``search`` (``Engine.search``); returns the report text.

    :param save_dir: if given, each run is saved there (TREC run + JSON), with
        ``meta.json`` (date, machine, git commit, ``meta``) and ``report.txt``.
    """
    parts = [report.LEGEND]
    for qset in qsets:
        set_runs = runs.run_set(search, qset)
        parts.append(report.set_report(qset, set_runs))
        if save_dir is not None:
            for run in set_runs:
                runs.save(run, save_dir)
    text = "\n\n".join(parts)
    if save_dir is not None:
        save_dir = Path(save_dir)
        info = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": f"{platform.node()} ({platform.machine()}, {platform.python_implementation()} "
            f"{platform.python_version()})",
            "commit": _git_commit(),
            **(meta or {}),
        }
        (save_dir / "meta.json").write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        (save_dir / "report.txt").write_text(text + "\n", encoding="utf-8")
    return text


def _git_commit():
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
        return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return ""
