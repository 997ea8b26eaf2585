"""The one description of every struct of runtime_c/include/tte_types.h.

Each `CStruct` lists its fields in declaration order with their C types.  From it come:
  * the generated code's initializers: `CStruct.static(name, **fields)` is a file-scope
    `static const` with C99 designated initializers (`.stride_h = 1, ...`) that must name every
    field of the description once, so that no value lands in another field;
  * the header check: tests/c/test_structs.py reads every struct's fields and types out of
    tte_types.h and compares them with the description (a field added, removed, renamed,
    retyped or reordered fails there by name), and compiles sizeof and offsetof of every field
    against `CStruct.layout()`;
  * the tests' ctypes mirrors (tests/c/tte_ctypes.py builds them from STRUCTS).

Types are those of the Cortex-M7 ABI and of the hosts the tests run on: int32_t and float 4
bytes, pointers 4 bytes on the M7 and 8 on a 64-bit host (the layout is computed for the
host's pointer size).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass


@dataclass
class Static:
    """A `static const <ctype> <name>[<count>] = {<values>};` (count None: not an array);
    values are C literals or C text (a struct's are its designated initializers)."""
    ctype: str
    name: str
    values: list
    count: int | None = None


# C type -> (size, alignment), the same on the Cortex-M7 and on the hosts the tests run on
_SCALARS = {"uint8_t": (1, 1), "int8_t": (1, 1), "int32_t": (4, 4), "uint32_t": (4, 4), "float": (4, 4)}
_POINTER = (ctypes.sizeof(ctypes.c_void_p), ctypes.alignment(ctypes.c_void_p))   # this host's


def c_size_align(ctype: str) -> tuple[int, int]:
    """(sizeof, alignment) of a scalar, a pointer or a described struct, by the C rules."""
    if ctype in STRUCTS:
        return STRUCTS[ctype].layout()[0], max(c_size_align(t)[1] for _, t in STRUCTS[ctype].fields)
    return _POINTER if ctype.endswith("*") else _SCALARS[ctype]


@dataclass(frozen=True)
class CStruct:
    name: str
    fields: tuple[tuple[str, str], ...]    # (field, C type) in declaration order

    def static(self, var: str, **values) -> Static:
        """`static const <name> <var> = {.field = value, ...};`: every field, in order."""
        names = [f for f, _ in self.fields]
        if set(values) != set(names):
            missing, extra = sorted(set(names) - set(values)), sorted(set(values) - set(names))
            raise ValueError(f"{self.name} {var}: missing fields {missing}, unknown fields {extra}")
        return Static(self.name, var, [f".{f} = {c_literal(values[f])}" for f in names])

    def layout(self) -> tuple[int, dict[str, int]]:
        """(sizeof, {field: offsetof}) by the C rules on this host."""
        offset, offsets, align_of = 0, {}, 1
        for field, ctype in self.fields:
            size, align = c_size_align(ctype)
            offset = -(-offset // align) * align
            offsets[field] = offset
            offset += size
            align_of = max(align_of, align)
        return -(-offset // align_of) * align_of, offsets


def c_literal(v) -> str:
    """A C literal of a number, or C text as it is; INT32_MIN has none (2147483648 alone does
    not fit an int)."""
    return "INT32_MIN" if v == -(1 << 31) else str(v)


def _struct(name: str, *fields: str, types: dict[str, str] | None = None) -> CStruct:
    """A struct whose fields are int32_t unless `types` says otherwise."""
    types = types or {}
    return CStruct(name, tuple((f, types.get(f, "int32_t")) for f in fields))


_GEOMETRY = ("stride_h", "stride_w", "pad_top", "pad_left", "pad_bottom", "pad_right")

STRUCTS = {s.name: s for s in (
    _struct("tte_dims", "n", "h", "w", "c"),
    _struct("tte_ctx", "buf", "size", types={"buf": "void *"}),
    _struct("tte_conv_params", *_GEOMETRY, "input_offset", "output_offset", "act_min", "act_max"),
    _struct("tte_fc_params", "input_offset", "output_offset", "act_min", "act_max"),
    _struct("tte_per_channel_quant", "multiplier", "shift",
            types={"multiplier": "const int32_t *", "shift": "const int32_t *"}),
    _struct("tte_add_params", "input1_offset", "input1_multiplier", "input1_shift", "input2_offset",
            "input2_multiplier", "input2_shift", "left_shift", "output_multiplier", "output_shift",
            "output_offset", "act_min", "act_max"),
    _struct("tte_mul_params", "input1_offset", "input2_offset", "output_multiplier", "output_shift",
            "output_offset", "act_min", "act_max"),
    _struct("tte_pool_params", *_GEOMETRY, "act_min", "act_max"),
    _struct("tte_avg_requant", "input_offset", "output_offset", "multiplier", "shift",
            types={"multiplier": "const int32_t *", "shift": "const int32_t *"}),
    _struct("tte_gap_params", "input_offset", "output_offset", "multiplier", "shift", "act_min", "act_max"),
    _struct("tte_real_logits_params", "input_offset"),
    _struct("tte_softmax_ce_params", "label_smoothing", types={"label_smoothing": "float"}),
    _struct("tte_clamp_grad_params", "act_min", "act_max"),
    _struct("tte_conv_grad_params", *_GEOMETRY, "input_scale", "input_zero_point", types={"input_scale": "float"}),
    _struct("tte_fc_grad_params", "input_scale", "input_zero_point", types={"input_scale": "float"}),
    _struct("tte_mul_grad_params", "other_scale", "other_zero_point", types={"other_scale": "float"}),
    _struct("tte_rescale", "input_offset", "output_offset", "multiplier", "shift"),
    _struct("tte_split_filter", "frozen", "trained", "channels", "n",
            types={"frozen": "const int8_t *", "trained": "const int8_t *", "channels": "const int32_t *"}),
    _struct("tte_rows", "begin", "count"),
    _struct("tte_sgd_params", "lr", "scale_mode", "momentum", "step_clip",
            types={"lr": "float", "momentum": "float", "step_clip": "float"}),
)}


def geometry(node_attrs: dict) -> dict[str, int]:
    """The stride and pad fields shared by tte_conv_params, tte_pool_params and
    tte_conv_grad_params, from a node's `stride` (h, w) and `pads` (top, left, bottom, right)."""
    return dict(zip(_GEOMETRY, [*node_attrs["stride"], *node_attrs["pads"]], strict=True))


def pool_static(var: str, node_attrs: dict, act_min: int = -128, act_max: int = 127) -> Static:
    """The tte_pool_params of a pooling node or of its gradient: its geometry and a clamp (the
    whole int8 range unless given)."""
    return STRUCTS["tte_pool_params"].static(var, **geometry(node_attrs), act_min=act_min, act_max=act_max)


def dims_static(var: str, shape) -> Static:
    """A tte_dims {n, h, w, c} of a shape: [C] is {1, 1, 1, C}, [N, C] is {N, 1, 1, C}."""
    shape = tuple(shape)
    nhwc = (1, 1, 1, shape[0]) if len(shape) == 1 else (shape[0], 1, 1, shape[1]) if len(shape) == 2 else shape
    return STRUCTS["tte_dims"].static(var, **dict(zip("nhwc", nhwc, strict=True)))
