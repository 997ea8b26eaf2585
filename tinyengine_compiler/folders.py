"""Write a folder all or nothing: the compiler never leaves a half-written folder over a good one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def replace_folder(out_dir: str | Path, fill: Callable[[Path], None]) -> None:
    """Make `out_dir` what `fill(folder)` writes into an empty folder, all or nothing: `fill`
    writes a sibling temporary folder, which then replaces `out_dir` by renames."""
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        fill(staging)
        if out.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, retired / out.name)
            os.replace(staging, out)
            shutil.rmtree(retired)
        else:
            os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
