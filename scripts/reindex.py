#!/usr/bin/env python3
"""The staff reindex script: ``python scripts/reindex.py [kb index flags]``.

It runs exactly what ``kb index`` runs: a new index generation is built from the
articles beside the one being served, checked, then made current in one step,
so visitors see no downtime.  Broken articles are listed as ``file:line: what is
wrong`` and make the exit status 1; every other article is still indexed.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["index", *sys.argv[1:]]))
