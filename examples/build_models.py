"""Build the paper's three architectures as float and int8 ONNX models with synthetic weights.

    python -m examples.build_models [--out examples/models] [--only mcunet-5fps]

For each architecture in `examples/architectures.py` this writes `<name>-float.onnx` (Conv +
BatchNormalization + ReLU6 as Clip(0, 6), Add for residuals, GlobalAveragePool, Flatten, Gemm;
input 1x3x128x128, 1000 classes) and `<name>-int8.onnx`, its QDQ int8 form from
`tinyengine_compiler.quantize.quantize_onnx`, calibrated on `calibration.npy` (16 synthetic
uint8 128x128x3 images), plus `example-image.npy`, one more such image for `tte run`.
Everything is seeded: the same command writes the same files.

The weights are random, so the models classify nothing; they have the paper's shapes, layer
for layer, which is what memory planning, code generation and `tte inspect` look at.  Weights
are He-scaled and the BatchNormalization statistics are chosen so that activations stay of
order one through all the blocks (tests/test_examples.py checks it).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tinyengine_compiler.quantize import quantize_onnx

from .architectures import ARCHITECTURES, INPUT_SIZE, NUM_CLASSES, Architecture

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
CALIBRATION_IMAGES = 16
EXAMPLE_IMAGE_SEED = 1   # not the calibration seed: the demo image is not one the models were calibrated on
OPSET = 13
INPUT_NAME = "image"
OUTPUT_NAME = "logits"
# A residual branch adds its variance to the block input's; damping the project BN keeps the
# sum from growing block after block, as zero-initialized residual BN does in training recipes.
RESIDUAL_GAMMA = 0.5


class _Builder:
    """Appends ONNX nodes and initializers; every random draw comes from one seeded generator."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def const(self, name: str, array: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def node(self, op_type: str, name: str, inputs: list[str], **attrs) -> str:
        self.nodes.append(helper.make_node(op_type, inputs, [f"{name}.y"], name=name, **attrs))
        return f"{name}.y"

    def conv_bn(self, name: str, x: str, cin: int, cout: int, k: int, stride: int, *,
                depthwise: bool = False, relu6: bool = True, gamma: float = 1.0) -> str:
        """Conv (no bias) + BatchNormalization [+ Clip(0, 6)], with 'same' padding k // 2."""
        group = cout if depthwise else 1
        fan_in = (cin // group) * k * k
        # He scaling (gain 2) before a ReLU, plain 1/fan_in before a linear layer.
        std = np.sqrt((2.0 if relu6 else 1.0) / fan_in)
        w = self.const(f"{name}.weight", self.rng.normal(0.0, std, (cout, cin // group, k, k)))
        y = self.node("Conv", name, [x, w], kernel_shape=[k, k], strides=[stride, stride],
                      pads=[k // 2] * 4, group=group)
        y = self._batch_norm(f"{name}.bn", y, cout, gamma)
        if relu6:
            y = self.node("Clip", f"{name}.relu6", [y, self.const(f"{name}.relu6.min", 0.0),
                                                    self.const(f"{name}.relu6.max", 6.0)])
        return y

    def _batch_norm(self, name: str, x: str, c: int, gamma: float) -> str:
        # Variance and mean near the unit-variance input's keep BN close to an identity while
        # still making the folded weights and biases differ from the raw ones.
        params = [self.rng.uniform(0.8, 1.2, c) * gamma, self.rng.normal(0.0, 0.1, c),
                  self.rng.normal(0.0, 0.1, c), self.rng.uniform(0.8, 1.2, c)]
        names = [self.const(f"{name}.{p}", v) for p, v in zip(("scale", "bias", "mean", "var"), params)]
        return self.node("BatchNormalization", name, [x, *names], epsilon=1e-5)


def build_float_model(arch: Architecture, seed: int = 0) -> onnx.ModelProto:
    """The float ONNX model of `arch` with seeded synthetic weights (module docstring)."""
    b = _Builder(seed)
    cout, k, stride = arch.first_conv
    x = b.conv_bn("first_conv", INPUT_NAME, 3, cout, k, stride)
    channels = cout
    for i, block in enumerate(arch.blocks):
        h, width = x, channels
        if block.expand is not None:
            h = b.conv_bn(f"blocks.{i}.expand", h, channels, block.expand, 1, 1)
            width = block.expand
        h = b.conv_bn(f"blocks.{i}.depthwise", h, width, width, block.kernel, block.stride, depthwise=True)
        h = b.conv_bn(f"blocks.{i}.project", h, width, block.out, 1, 1, relu6=False,
                      gamma=RESIDUAL_GAMMA if block.residual else 1.0)
        x = b.node("Add", f"blocks.{i}.add", [x, h]) if block.residual else h
        channels = block.out
    x = b.node("GlobalAveragePool", "pool", [x])
    x = b.node("Flatten", "flatten", [x], axis=1)
    w = b.const("classifier.weight", b.rng.normal(0.0, np.sqrt(1.0 / channels), (NUM_CLASSES, channels)))
    bias = b.const("classifier.bias", np.zeros(NUM_CLASSES))
    b.nodes.append(helper.make_node("Gemm", [x, w, bias], [OUTPUT_NAME], name="classifier", transB=1))
    graph = helper.make_graph(
        b.nodes, arch.name,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [1, 3, INPUT_SIZE, INPUT_SIZE])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [1, NUM_CLASSES])],
        initializer=b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="tinyengine-compiler examples")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def calibration_images(n: int = CALIBRATION_IMAGES, seed: int = 0) -> np.ndarray:
    """n seeded uint8 (128, 128, 3) images: smooth random color fields plus pixel noise.

    Smooth fields rather than white noise, so that calibration sees the spatially correlated
    inputs that a camera gives and the quantized ranges are not set by noise alone.
    """
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (n, 8, 8, 3))
    cell = INPUT_SIZE // 8
    fields = np.repeat(np.repeat(coarse, cell, axis=1), cell, axis=2)
    noisy = fields + rng.normal(0.0, 20.0, fields.shape)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def save_float_and_int8(model: onnx.ModelProto, out_dir: str, stem: str, calib: str) -> dict[str, str]:
    """Write `<stem>-float.onnx` and its quantized `<stem>-int8.onnx` (calibrated on `calib`);
    return {"float": path, "int8": path}."""
    paths = {kind: os.path.join(out_dir, f"{stem}-{kind}.onnx") for kind in ("float", "int8")}
    onnx.save(model, paths["float"])
    quantize_onnx(paths["float"], calib, paths["int8"])
    return paths


def build(out_dir: str = DEFAULT_OUT, names: list[str] | None = None) -> dict[str, dict[str, str]]:
    """Write the float and int8 models (all, or `names`); return name -> {"float": path, "int8": path}."""
    os.makedirs(out_dir, exist_ok=True)
    calib = os.path.join(out_dir, "calibration.npy")
    np.save(calib, calibration_images())
    np.save(os.path.join(out_dir, "example-image.npy"), calibration_images(1, seed=EXAMPLE_IMAGE_SEED)[0])
    return {name: save_float_and_int8(build_float_model(ARCHITECTURES[name]), out_dir, name, calib)
            for name in names or list(ARCHITECTURES)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.build_models", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: examples/models)")
    parser.add_argument("--only", action="append", choices=sorted(ARCHITECTURES),
                        help="build only this model (repeatable)")
    args = parser.parse_args(argv)
    for name, paths in build(args.out, args.only).items():
        print(f"{name}: " + ", ".join(paths.values()))


if __name__ == "__main__":
    main()
