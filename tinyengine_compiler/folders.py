"""Write a folder, or a set of files, all or nothing: the compiler never leaves a half-written
folder or file over a good one."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def _new_sibling(path: Path, suffix: str) -> Path:
    """A new unused name beside `path`.  The staging files and folders are made with the modes
    of a plain write (0666 / 0777 less the umask and the folder's default ACL), not mkstemp's
    and mkdtemp's private 0600 / 0700, which would hide the generated C or a scheme from the
    user's group once renamed into place."""
    return path.parent / f".{path.name}.{secrets.token_hex(8)}{suffix}"


def replace_folder(out_dir: str | Path, fill: Callable[[Path], None]) -> None:
    """Make `out_dir` what `fill(folder)` writes into an empty folder, all or nothing: `fill`
    writes a sibling temporary folder, which then replaces `out_dir` by renames."""
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = _new_sibling(out, ".new")
    os.mkdir(staging, 0o777)
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


def replace_files(files: list[tuple[str | Path, Callable[[str], None]]]) -> None:
    """Make each path what its `fill(temporary path)` writes, none before all are written: each
    fills a temporary sibling, then the renames follow in the given order (a reader that checks
    the last file sees the others whole)."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, fill in files:
            path = Path(path).resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = str(_new_sibling(path, ".new"))
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            staged.append((tmp, path))
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


def replace_texts(texts: dict[str | Path, str]) -> None:
    """`replace_files` of {path: its text}, renamed in the dict's order."""
    replace_files([(path, lambda tmp, text=text: Path(tmp).write_text(text)) for path, text in texts.items()])
