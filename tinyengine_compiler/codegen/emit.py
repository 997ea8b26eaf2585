"""Render the templates and write the output folder of `tte compile`, all or nothing.

Takes a context from `context.build_context` (plus extra files, e.g. the memory report);
guarantees that `out_dir` afterwards is either the complete new output or, if anything failed,
exactly what it was before.  Everything is first written to a sibling temporary folder, which
then replaces `out_dir` by renames.  The folder is self-contained: the runtime headers and the
kernel sources that the schedule calls are copied in, and the build fragments `tte.mk` (Make) and
`tte.cmake` (CMake) list them.

`backend` picks the kernel folder (the TFLM `OPTIMIZED_KERNEL_DIR` swap): "portable" copies
runtime_c/src/ref; "cmsis_nn" copies runtime_c/src/cmsis/<kernel>.c for the kernels that exist
there (thin adapters to CMSIS-NN, plus their shared tte_cmsis.h and tte_cmsis_scratch.c) and
src/ref for the rest, and tte.mk and tte.cmake then set TTE_KERNELS to cmsis_nn, the CMSIS-NN flags
and include path, and a CMSIS_NN_ROOT source list (the user supplies CMSIS-NN; none is copied).
A core that several kernels share (runtime_c/src/shared, e.g. the pointwise and depthwise
planes) is copied once with any kernel that includes its header, so the firmware holds one copy;
of runtime_c/include only the headers that the engine and its kernels include are copied (the
internal ones under runtime/include/internal).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import jinja2

from ..cbuild import (CMSIS_NN_DEFINE, CMSIS_NN_FAMILIES, CMSIS_NN_FLOAT_SUFFIXES, ENGINE_C_FLAGS,
                      ENGINE_C_FLAGS_WHY)
from ..errors import ConfigError
from ..folders import replace_folder
from ..resources import runtime_c_dir, templates_dir

RENDERED = {"tte_model.h": "tte_model.h.j2", "tte_model.c": "tte_model.c.j2",
            "tte_weights.h": "tte_weights.h.j2", "tte_weights.c": "tte_weights.c.j2",
            "tte.mk": "tte.mk.j2", "tte.cmake": "tte.cmake.j2"}

# backend name (TTE_KERNELS, `tte compile --kernels`) -> runtime_c/src folder of its kernels
BACKENDS = {"portable": "ref", "cmsis_nn": "cmsis"}
# the files every CMSIS-NN adapter needs beside it (the shared header and scratch)
CMSIS_SUPPORT = ("tte_cmsis.h", "tte_cmsis_scratch.c")


# `#include "tte_x.h"` (or "internal/tte_x.h") in the engine or a runtime source: runtime_c/include
# holds the header; where runtime_c/src/shared/tte_x.c exists, the code of that header is compiled
# once there (a core several kernels share), and must be copied with them
_INCLUDE = re.compile(r'^#include "([^"]+)\.h"', re.M)


def _included(texts: list[str], files: list[tuple[str, Path]]) -> tuple[list[str], list[tuple[str, Path]]]:
    """(the runtime_c/include headers, as paths relative to it; the runtime_c/src/shared cores)
    that `texts` and the sources `files` include, directly or through what they include, each
    once, in name order."""
    runtime = runtime_c_dir()
    todo, seen = [*texts, *(path.read_text() for _, path in files)], set()
    while todo:
        for name in _INCLUDE.findall(todo.pop()):
            for path in (runtime / "include" / f"{name}.h", runtime / "src" / "shared" / f"{Path(name).name}.c"):
                if path.is_file() and path not in seen:
                    seen.add(path)
                    todo.append(path.read_text())
    headers = sorted(str(path.relative_to(runtime / "include")) for path in seen if path.suffix == ".h")
    return headers, sorted((path.name, path) for path in seen if path.suffix == ".c")


def _kernel_sources(kernels: list[str], backend: str) -> tuple[list[tuple[str, Path]], list[str]]:
    """([(file name, runtime_c source)] to copy: each kernel's file, and the CMSIS-NN adapters'
    support files; the kernels that `backend` replaced)."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown kernel backend '{backend}' (choose from {', '.join(BACKENDS)})")
    src = runtime_c_dir() / "src"
    own = src / BACKENDS[backend]
    files, swapped = [], []
    for kernel in kernels:
        path = own / f"{kernel}.c"
        if backend != "portable" and path.is_file():
            swapped.append(kernel)
        else:
            path = src / "ref" / f"{kernel}.c"
        files.append((f"{kernel}.c", path))
    if swapped and backend == "cmsis_nn":
        files.extend((name, own / name) for name in CMSIS_SUPPORT)
    return files, swapped


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, autoescape=False)


def _fill(folder: Path, context: dict, extra_files: dict[str, str], backend: str) -> None:
    files, swapped = _kernel_sources(context["kernels"], backend)
    env = _environment()
    # the shared cores of the kernels and of the engine's own files (any their templates include:
    # tte.mk lists the sources before the templates render)
    templates = [env.loader.get_source(env, template)[0] for template in RENDERED.values()]
    files += _included(templates, files)[1]
    sources = [name[:-2] for name, _ in files if name.endswith(".c")]
    build = {"backend": backend, "backend_kernels": swapped, "sources": sources, "c_flags": ENGINE_C_FLAGS,
             "c_flags_why": ENGINE_C_FLAGS_WHY, "cmsis_families": CMSIS_NN_FAMILIES, "cmsis_define": CMSIS_NN_DEFINE,
             "cmsis_float_suffixes": CMSIS_NN_FLOAT_SUFFIXES}
    rendered = [env.get_template(template).render(**context, **build) for template in RENDERED.values()]
    for name, text in zip(RENDERED, rendered):
        (folder / name).write_text(text)
    headers = _included(rendered, files)[0]   # the headers the rendered engine and its kernels include
    runtime = runtime_c_dir()
    for header in headers:
        (folder / "runtime" / "include" / header).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(runtime / "include" / header, folder / "runtime" / "include" / header)
    (folder / "runtime" / "src").mkdir(parents=True)
    for name, path in files:
        shutil.copy2(path, folder / "runtime" / "src" / name)
    for name, text in extra_files.items():
        (folder / name).write_text(text)


def write_output(out_dir: str, context: dict, extra_files: dict[str, str] | None = None, *,
                 backend: str = "portable") -> None:
    _kernel_sources([], backend)   # an unknown backend fails before anything is written
    replace_folder(out_dir, lambda staging: _fill(staging, context, extra_files or {}, backend))


def write_files(out_dir: str, files: dict[str, str]) -> None:
    """Write the already rendered `files` (name -> text) into `out_dir` (created if needed),
    each through a temporary file renamed over the old one: a file is old or new, never half
    written, and other files of the folder are left alone (`tte plan -o`)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(tmp, out / name)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
