"""tte_types.h against the one description of its structs (codegen/structs.py): every struct's
fields, types and order as the header declares them, the C compiler's sizeof and offsetof of
every field against the layout the description gives, and designated initializers that name
every field once.  A field added, removed, renamed, retyped or reordered in the header without
the description fails here by name."""

import re
import subprocess

import pytest

from tinyengine_compiler.codegen.structs import STRUCTS, dims_static

from .build import CC, INCLUDE, WARNINGS


def _c_layouts(tmp_path) -> dict[str, tuple[int, dict[str, int]]]:
    """{struct: (sizeof, {field: offsetof})} as the host C compiler lays tte_types.h out."""
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include "tte_types.h"', "int main(void)", "{"]
    for name, struct in STRUCTS.items():
        lines.append(f'    printf("%s sizeof %zu\\n", "{name}", sizeof({name}));')
        lines += [f'    printf("%s %s %zu\\n", "{name}", "{f}", offsetof({name}, {f}));' for f, _ in struct.fields]
    lines += ["    return 0;", "}"]
    (tmp_path / "layout.c").write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    subprocess.run([CC, *WARNINGS, f"-I{INCLUDE}", str(tmp_path / "layout.c"), "-o", str(exe)], check=True,
                   capture_output=True, text=True)
    out: dict[str, tuple[int, dict[str, int]]] = {}
    for line in subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.splitlines():
        name, field, value = line.split()
        size, offsets = out.get(name, (0, {}))
        out[name] = (int(value), offsets) if field == "sizeof" else (size, {**offsets, field: int(value)})
    return out


@pytest.mark.skipif(CC is None, reason="no C compiler (cc or gcc) on PATH")
def test_every_struct_of_tte_types_h_is_laid_out_as_described(tmp_path):
    c = _c_layouts(tmp_path)
    for name, struct in STRUCTS.items():
        assert c[name] == struct.layout(), f"{name}: tte_types.h and codegen/structs.py disagree"


def _declared() -> dict[str, tuple[tuple[str, str], ...]]:
    """{struct: ((field, C type), ...)} as tte_types.h declares them, comments dropped."""
    text = re.sub(r"/\*.*?\*/", "", (INCLUDE / "tte_types.h").read_text(), flags=re.S)
    out = {}
    for body, name in re.findall(r"typedef struct \{(.*?)\} (\w+);", text, re.S):
        fields = re.findall(r"((?:const )?\w+)\s*(\*?)\s*(\w+);", body)
        out[name] = tuple((field, f"{ctype} *" if star else ctype) for ctype, star, field in fields)
    return out


def test_every_struct_of_tte_types_h_is_described_field_by_field():
    """Names, types and order of every field: what the layout check cannot see (a field added in
    tail padding, an int32_t turned into a float)."""
    assert _declared() == {name: s.fields for name, s in STRUCTS.items()}


def test_an_initializer_names_every_field_in_declaration_order():
    assert dims_static("d", (2, 3)).values == [".n = 2", ".h = 1", ".w = 1", ".c = 3"]
    assert STRUCTS["tte_rows"].static("r", count=4, begin=-(1 << 31)).values == [".begin = INT32_MIN", ".count = 4"]
    with pytest.raises(ValueError, match=r"tte_rows r: missing fields \['count'\], unknown fields \['counts'\]"):
        STRUCTS["tte_rows"].static("r", begin=0, counts=1)
