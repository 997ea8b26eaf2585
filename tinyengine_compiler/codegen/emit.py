"""Render the templates and write the output folder of `tte compile`, all or nothing.

Takes a context from `context.build_context` (plus extra files, e.g. the memory report);
guarantees that `out_dir` afterwards is either the complete new output or, if anything failed,
exactly what it was before.  Everything is first written to a sibling temporary folder, which
then replaces `out_dir` by renames.  The folder is self-contained: the runtime headers and the
kernel sources that the schedule calls are copied in, and `tte.mk` lists them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import jinja2

from ..resources import runtime_c_dir, templates_dir

RENDERED = {"tte_model.h": "tte_model.h.j2", "tte_model.c": "tte_model.c.j2",
            "tte_weights.h": "tte_weights.h.j2", "tte_weights.c": "tte_weights.c.j2", "tte.mk": "tte.mk.j2"}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, autoescape=False)


def _fill(folder: Path, context: dict, extra_files: dict[str, str]) -> None:
    env = _environment()
    for name, template in RENDERED.items():
        (folder / name).write_text(env.get_template(template).render(**context))
    runtime = runtime_c_dir()
    shutil.copytree(runtime / "include", folder / "runtime" / "include")
    (folder / "runtime" / "src").mkdir(parents=True)
    for kernel in context["kernels"]:
        shutil.copy2(runtime / "src" / "ref" / f"{kernel}.c", folder / "runtime" / "src" / f"{kernel}.c")
    for name, text in extra_files.items():
        (folder / name).write_text(text)


def write_output(out_dir: str, context: dict, extra_files: dict[str, str] | None = None) -> None:
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        _fill(staging, context, extra_files or {})
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
