"""Write a folder, or a set of files, all or nothing: the compiler never leaves a half-written
folder or file over a good one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def _created_mode(mode: int) -> int:
    """`mode` less the process's umask: what open() and mkdir() give a new file or folder.
    mkstemp and mkdtemp make them private (0600, 0700), which would hide the generated C or
    a scheme from the rest of a user's group once renamed into place."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def replace_folder(out_dir: str | Path, fill: Callable[[Path], None]) -> None:
    """Make `out_dir` what `fill(folder)` writes into an empty folder, all or nothing: `fill`
    writes a sibling temporary folder, which then replaces `out_dir` by renames."""
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        os.chmod(staging, _created_mode(0o777))
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


def replace_files(files: list[tuple[str | Path, Callable[[str], None]]]) -> None:
    """Make each path what its `fill(temporary path)` writes, none before all are written: each
    fills a temporary sibling, then the renames follow in the given order (a reader that checks
    the last file sees the others whole)."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, fill in files:
            path = Path(path).resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".new")
            os.close(fd)
            staged.append((tmp, path))
            os.chmod(tmp, _created_mode(0o666))
            fill(tmp)
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.remove(tmp)


def replace_file(path: str | Path, fill: Callable[[str], None]) -> None:
    """`replace_files` of one file."""
    replace_files([(path, fill)])
