"""Small seeded float models of the common tiny-vision families, built with onnx.helper.

    python -m examples.families [--out examples/models] [--size 96]

Each family is a miniature of its network, with the ops a PyTorch export of it contains:

* `squeezenet`: a stride-2 stem, MaxPool, Fire modules (a 1x1 squeeze, then 1x1 and 3x3
  expands joined by Concat), and a 1x1 conv classifier on the globally pooled 1x1 map,
  flattened;
* `shufflenetv2`: a stem, MaxPool, a down-sampling unit (two branches, Concat) and basic units
  (a channel Split, one branch, Concat), each followed by a channel shuffle as PyTorch writes
  it: Reshape to [N, 2, C/2, H, W] with the shape computed from Shape / Gather / Div /
  Unsqueeze / Concat, Transpose, Reshape back; a 1x1 conv, global pool and a Gemm;
* `mobilenetv3`: hard-swish (`HardSwish`, and `x * HardSigmoid(x)`), inverted bottlenecks with
  squeeze-excite (global pool, two 1x1 convs, HardSigmoid, a per-channel Mul), a residual, and
  a head of 1x1 convs on the pooled 1x1 map.

BatchNormalization follows every conv (folded by `tte quantize`).  `build(out, size)` writes
`<family>-<size>-float.onnx` and `<family>-<size>-int8.onnx` (quantized by `tte quantize`'s code on seeded
calibration images, `calibration-<size>.npy`).  The weights are random: the models classify
nothing, but they have the families' ops and shapes.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

from .build_models import (DEFAULT_OUT, INPUT_NAME, OPSET, OUTPUT_NAME, _Builder, calibration_images,
                           save_float_and_int8)

NUM_CLASSES = 10
FAMILIES = ("squeezenet", "shufflenetv2", "mobilenetv3")


class _FamilyBuilder(_Builder):
    def conv(self, name: str, x: str, cin: int, cout: int, k: int, stride: int = 1, *, depthwise: bool = False,
             act: str | None = "relu") -> str:
        """Conv + BatchNormalization [+ an activation: relu, hardswish, hardswish_mul]."""
        y = self.conv_bn(name, x, cin, cout, k, stride, depthwise=depthwise, relu6=False)
        if act == "relu":
            return self.node("Relu", f"{name}.relu", [y])
        if act == "hardswish":
            return self.node("HardSwish", f"{name}.hswish", [y])
        if act == "hardswish_mul":   # x * HardSigmoid(x), as older exporters write it
            return self.node("Mul", f"{name}.hswish", [y, self.node("HardSigmoid", f"{name}.hsig", [y])])
        return y

    def plain_conv(self, name: str, x: str, cin: int, cout: int) -> str:
        """A 1x1 conv with a bias and no BatchNormalization (a classifier or an SE conv)."""
        w = self.const(f"{name}.weight", self.rng.normal(0.0, np.sqrt(1.0 / cin), (cout, cin, 1, 1)))
        b = self.const(f"{name}.bias", self.rng.normal(0.0, 0.1, cout))
        return self.node("Conv", name, [x, w, b], kernel_shape=[1, 1])

    def int64(self, name: str, values) -> str:
        self.inits.append(onnx.numpy_helper.from_array(np.asarray(values, dtype=np.int64), name))
        return name

    def shuffle(self, name: str, x: str, groups: int = 2) -> str:
        """A channel shuffle as torch.onnx writes x.view(b, g, c // g, h, w).transpose(1, 2)
        .reshape(b, c, h, w), its view shape computed from the input's."""
        shape = self.node("Shape", f"{name}.shape", [x])
        dims = [self.node("Gather", f"{name}.dim{i}", [shape, self.int64(f"{name}.i{i}", i)], axis=0)
                for i in range(4)]
        per = self.node("Div", f"{name}.per_group", [dims[1], self.int64(f"{name}.groups", groups)])
        parts = [self.node("Unsqueeze", f"{name}.u{i}", [d, self.int64(f"{name}.axis{i}", [0])])
                 for i, d in enumerate([dims[0], self.int64(f"{name}.g", groups), per, dims[2], dims[3]])]
        view = self.node("Concat", f"{name}.view_shape", parts, axis=0)
        y = self.node("Reshape", f"{name}.view", [x, view])
        y = self.node("Transpose", f"{name}.transpose", [y], perm=[0, 2, 1, 3, 4])
        back = self.node("Concat", f"{name}.back_shape", [parts[0], self.node("Unsqueeze", f"{name}.uc", [
            dims[1], self.int64(f"{name}.axisc", [0])]), parts[3], parts[4]], axis=0)
        return self.node("Reshape", f"{name}.back", [y, back])


def squeezenet(b: _FamilyBuilder) -> str:
    def fire(name: str, x: str, cin: int, squeeze: int, expand: int) -> str:
        s = b.conv(f"{name}.squeeze", x, cin, squeeze, 1)
        e1 = b.conv(f"{name}.expand1x1", s, squeeze, expand, 1)
        e3 = b.conv(f"{name}.expand3x3", s, squeeze, expand, 3)
        return b.node("Concat", f"{name}.concat", [e1, e3], axis=1)

    x = b.conv("stem", INPUT_NAME, 3, 16, 3, 2)
    x = b.node("MaxPool", "pool1", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    x = fire("fire2", x, 16, 8, 16)
    x = fire("fire3", x, 32, 8, 16)
    x = b.node("MaxPool", "pool3", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    x = fire("fire4", x, 32, 16, 32)
    x = b.node("GlobalAveragePool", "gap", [x])
    x = b.plain_conv("classifier", x, 64, NUM_CLASSES)
    return b.node("Flatten", "flatten", [x], axis=1)


def shufflenetv2(b: _FamilyBuilder) -> str:
    def down(name: str, x: str, cin: int, cout: int) -> str:
        half = cout // 2
        left = b.conv(f"{name}.left.dw", x, cin, cin, 3, 2, depthwise=True, act=None)
        left = b.conv(f"{name}.left.pw", left, cin, half, 1)
        right = b.conv(f"{name}.right.pw1", x, cin, half, 1)
        right = b.conv(f"{name}.right.dw", right, half, half, 3, 2, depthwise=True, act=None)
        right = b.conv(f"{name}.right.pw2", right, half, half, 1)
        return b.shuffle(f"{name}.shuffle", b.node("Concat", f"{name}.concat", [left, right], axis=1))

    def basic(name: str, x: str, c: int) -> str:
        half = c // 2
        b.nodes.append(helper.make_node("Split", [x, b.int64(f"{name}.sizes", [half, half])],
                                        [f"{name}.keep", f"{name}.branch"], name=f"{name}.split", axis=1))
        y = b.conv(f"{name}.pw1", f"{name}.branch", half, half, 1)
        y = b.conv(f"{name}.dw", y, half, half, 3, 1, depthwise=True, act=None)
        y = b.conv(f"{name}.pw2", y, half, half, 1)
        return b.shuffle(f"{name}.shuffle", b.node("Concat", f"{name}.concat", [f"{name}.keep", y], axis=1))

    x = b.conv("stem", INPUT_NAME, 3, 16, 3, 2)
    x = b.node("MaxPool", "pool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    x = down("stage2.0", x, 16, 32)
    x = basic("stage2.1", x, 32)
    x = down("stage3.0", x, 32, 48)
    x = basic("stage3.1", x, 48)
    x = b.conv("conv5", x, 48, 64, 1)
    x = b.node("Flatten", "flatten", [b.node("GlobalAveragePool", "gap", [x])], axis=1)
    w = b.const("fc.weight", b.rng.normal(0.0, np.sqrt(1.0 / 64), (NUM_CLASSES, 64)))
    bias = b.const("fc.bias", np.zeros(NUM_CLASSES))
    return b.node("Gemm", "fc", [x, w, bias], transB=1)


def mobilenetv3(b: _FamilyBuilder) -> str:
    def se(name: str, x: str, c: int, squeeze: int) -> str:
        s = b.node("GlobalAveragePool", f"{name}.pool", [x])
        s = b.node("Relu", f"{name}.fc1.relu", [b.plain_conv(f"{name}.fc1", s, c, squeeze)])
        s = b.node("HardSigmoid", f"{name}.gate", [b.plain_conv(f"{name}.fc2", s, squeeze, c)],
                   alpha=1.0 / 6.0, beta=0.5)
        return b.node("Mul", f"{name}.scale", [x, s])

    x = b.conv("stem", INPUT_NAME, 3, 16, 3, 2, act="hardswish")
    # block 1: depthwise 3x3 s2 + ReLU + SE, project
    y = b.conv("b1.dw", x, 16, 16, 3, 2, depthwise=True)
    x = b.conv("b1.project", se("b1.se", y, 16, 8), 16, 16, 1, act=None)
    # block 2: expand + hard-swish (as x * HardSigmoid(x)), depthwise 5x5 s2, SE, project
    y = b.conv("b2.expand", x, 16, 48, 1, act="hardswish_mul")
    y = b.conv("b2.dw", y, 48, 48, 5, 2, depthwise=True, act="hardswish")
    x = b.conv("b2.project", se("b2.se", y, 48, 16), 48, 24, 1, act=None)
    # block 3: residual, ReLU
    y = b.conv("b3.expand", x, 24, 72, 1)
    y = b.conv("b3.dw", y, 72, 72, 3, 1, depthwise=True)
    x = b.node("Add", "b3.add", [x, b.conv("b3.project", y, 72, 24, 1, act=None)])
    x = b.conv("last", x, 24, 96, 1, act="hardswish")
    x = b.node("GlobalAveragePool", "gap", [x])
    x = b.node("HardSwish", "head.hswish", [b.plain_conv("head", x, 96, 128)])
    return b.node("Flatten", "flatten", [b.plain_conv("classifier", x, 128, NUM_CLASSES)], axis=1)


BUILDERS = {"squeezenet": squeezenet, "shufflenetv2": shufflenetv2, "mobilenetv3": mobilenetv3}


def build_float_model(family: str, size: int = 96, seed: int = 0) -> onnx.ModelProto:
    b = _FamilyBuilder(seed)
    BUILDERS[family](b)
    b.nodes[-1].output[0] = OUTPUT_NAME   # the last node makes the logits: the graph output
    graph = helper.make_graph(
        b.nodes, family, [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [1, NUM_CLASSES])], initializer=b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", max(OPSET, 14))],
                              producer_name="tinyengine-compiler examples")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def build(out_dir: str = DEFAULT_OUT, size: int = 96, families=FAMILIES) -> dict[str, dict[str, str]]:
    """Write the float and int8 model of each family; return family -> {"float": path, "int8": path}."""
    os.makedirs(out_dir, exist_ok=True)
    calib = os.path.join(out_dir, f"calibration-{size}.npy")
    images = calibration_images()
    step = images.shape[1] // size if images.shape[1] >= size else 1
    np.save(calib, np.ascontiguousarray(images[:, ::step, ::step][:, :size, :size]))
    return {family: save_float_and_int8(build_float_model(family, size), out_dir, f"{family}-{size}", calib)
            for family in families}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.families", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: examples/models)")
    parser.add_argument("--size", type=int, default=96, help="input height and width (default 96)")
    parser.add_argument("--only", action="append", choices=FAMILIES, help="build only this family (repeatable)")
    args = parser.parse_args(argv)
    for family, paths in build(args.out, args.size, args.only or FAMILIES).items():
        print(f"{family}: " + ", ".join(paths.values()))


if __name__ == "__main__":
    main()
