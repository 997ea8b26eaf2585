"""The common tiny-vision families, end to end: any model that runs also trains.

`examples/families.py` builds seeded SqueezeNet-, ShuffleNetV2- and MobileNetV3-small-like
float models (MaxPool, Concat, channel split and shuffle, HardSwish, `x * HardSigmoid(x)`,
squeeze-excite Mul, folded Shape arithmetic); `tte quantize` (onnxruntime's quantize_static)
makes them int8.  Each one:
  * runs forward within 1 LSB of onnxruntime at every op (the reference ops, fed onnxruntime's
    own inputs), and agrees with onnxruntime's top-1 on at least 95 % of clear images (a
    top-1 margin of 2 LSB or more in onnxruntime's logits);
  * compiles for `last-layer`, the biases of its last 6 numbered convs and `auto`, with
    --num-classes 4 under 256 KB, and trains in the host C bit for bit with the reference
    trainer: finite losses that fall over a few steps on a fixed image.
The same engines on QEMU are in tests/qemu/test_families_m7.py.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from examples.families import FAMILIES
from tinyengine_compiler.codegen.context import trained_bytes
from tinyengine_compiler.compile import compile_training
from tinyengine_compiler.frontend import load_model
from tinyengine_compiler.frontend.inputs import image_to_real, quantize_image
from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.pipeline import Options
from tinyengine_compiler.reference.interp import run_graph
import tinyengine_compiler.reference.ops  # noqa: F401  (registers the reference ops)
from tinyengine_compiler.registry import REGISTRY
from tinyengine_compiler.scheme import load_scheme, parse_scheme
from tinyengine_compiler.targets.host import HostEngine, build_host_library
from tinyengine_compiler.training.trainer import Trainer

from ..sample_images import sample_images

BUDGET = 256 * 1024
SCHEMES = ("last-layer", "last-6-biases", "auto")
# the ops each family must bring into the IR (what the family is for)
FAMILY_OPS = {"squeezenet": {OpKind.MAX_POOL2D, OpKind.CONCAT},
              "shufflenetv2": {OpKind.CONCAT, OpKind.CHANNEL_SELECT, OpKind.MAX_POOL2D},
              "mobilenetv3": {OpKind.LUT, OpKind.MUL}}


def _scheme(name: str):
    return parse_scheme({"n_bias_update": 6}, name) if name == "last-6-biases" else load_scheme(name)


def _onnxruntime_every_op(path: str, g):
    """An onnxruntime session of the int8 model that also returns every IR tensor it makes."""
    model = onnx.load(path)
    for node in g.nodes:
        model.graph.output.append(helper.make_tensor_value_info(node.outputs[0], TensorProto.INT8, None))
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def _run(session, image) -> dict[str, np.ndarray]:
    outs = session.run(None, {session.get_inputs()[0].name: image_to_real(image).transpose(2, 0, 1)[None]})
    return {o.name: (v.transpose(0, 2, 3, 1) if v.ndim == 4 else v) for o, v in zip(session.get_outputs(), outs)}


@pytest.mark.parametrize("family", FAMILIES)
def test_forward_within_one_lsb_of_onnxruntime_at_every_op(family_models, family):
    g = load_model(family_models[family]["int8"])
    assert FAMILY_OPS[family] <= {n.op for n in g.nodes}
    session = _onnxruntime_every_op(family_models[family]["int8"], g)
    shape = g.tensors[g.inputs[0]].shape[1:3]
    exact = total = 0
    for image in sample_images(3, shape[0], seed=5):
        theirs = _run(session, image)
        theirs[g.inputs[0]] = quantize_image(g, image)
        for node in g.nodes:
            args = [theirs[i] if i in theirs else g.tensors[i].data for i in node.inputs]
            ours = REGISTRY[node.op].reference(g, node, *args).astype(np.int64)
            diff = np.abs(ours - theirs[node.outputs[0]].astype(np.int64).reshape(ours.shape))
            assert diff.max() <= 1, f"{node.name} ({node.op.value}): {diff.max()} LSB from onnxruntime"
            exact, total = exact + int((diff == 0).sum()), total + diff.size
    assert exact / total > 0.95   # 1 LSB is the exception (float rounding ties), not the rule


@pytest.mark.parametrize("family", FAMILIES)
def test_top1_agrees_with_onnxruntime_on_clear_images(family_models, family):
    g = load_model(family_models[family]["int8"])
    session = _onnxruntime_every_op(family_models[family]["int8"], g)
    agree = clear = 0
    for image in sample_images(24, g.tensors[g.inputs[0]].shape[1], seed=9):
        theirs = _run(session, image)[g.outputs[0]].reshape(-1).astype(np.int64)
        top2 = np.sort(theirs)[-2:]
        if top2[1] - top2[0] < 2:
            continue
        clear += 1
        agree += int(np.argmax(run_graph(g, quantize_image(g, image)).reshape(-1)) == np.argmax(theirs))
    assert clear >= 12 and agree >= 0.95 * clear, (agree, clear)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("family", FAMILIES)
def test_trains_in_the_host_c_bit_exact_with_the_reference(family_models, tmp_path, family, scheme):
    g = load_model(family_models[family]["int8"])
    engine = compile_training(g, _scheme(scheme), str(tmp_path / "out"), Options(num_classes=4),
                              budget_bytes=BUDGET)
    ctx = engine.context
    host = HostEngine(build_host_library(str(tmp_path / "out"), str(tmp_path / "build")), ctx["input"]["bytes"],
                      ctx["output"]["bytes"], ctx["trainable_bytes"])
    trainer = Trainer(engine.graph, 0.05)
    x = quantize_image(g, sample_images(1, g.tensors[g.inputs[0]].shape[1], seed=3)[0])
    losses = []
    for _ in range(5):
        loss = host.train_step(x, 1, 0.05)
        assert loss == np.float32(trainer.step(x, 1))
        losses.append(float(loss))
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses
    assert host.get_trainable() == trained_bytes(engine.graph, trainer.stored)


def test_auto_trains_more_than_the_last_layer_and_fits_the_budget(family_models):
    from tinyengine_compiler.pipeline import training_engine

    g = load_model(family_models["mobilenetv3"]["int8"])
    small = training_engine(g, load_scheme("auto"), Options(num_classes=4, budget_bytes=40 * 1024))
    large = training_engine(g, load_scheme("auto"), Options(num_classes=4, budget_bytes=BUDGET))
    assert small.summary["peak_sram_bytes"] <= 40 * 1024 < large.summary["peak_sram_bytes"] <= BUDGET
    trained = [len([n for n in e.graph.nodes if n.op == OpKind.SGD_UPDATE]) for e in (small, large)]
    assert 2 <= trained[0] < trained[1]
    assert large.summary["scheme"].startswith("auto: biases of the last")


def test_block_heads_are_the_expand_convs_or_every_1x1(family_models):
    from tinyengine_compiler.scheme import block_heads

    # examples/families.py: MobileNetV3's blocks 2 and 3 expand (block 1 has none); a SqueezeNet
    # has no depthwise conv, so every 1x1 (squeeze and expand 1x1) heads
    assert block_heads(load_model(family_models["mobilenetv3"]["int8"])) == ["b2.expand", "b3.expand"]
    squeeze = block_heads(load_model(family_models["squeezenet"]["int8"]))
    assert squeeze and all(name.endswith((".squeeze", ".expand1x1")) for name in squeeze)


@pytest.mark.parametrize("family", FAMILIES)
def test_auto_candidates_shrink_one_into_the_next(family_models, family):
    from tinyengine_compiler.scheme import auto_candidates, numbered_convs, resolve

    g = load_model(family_models[family]["int8"])
    n = len(numbered_convs(g))
    trained = [resolve(c, g) for c in auto_candidates(g)]
    assert {layer for layer, u in trained[0].items() if u.bias} >= set(numbered_convs(g)[n - (n + 1) // 2:])
    assert list(trained[-1]) == [g.producer(g.outputs[0]).name]   # the classifier alone
    for bigger, smaller in zip(trained, trained[1:]):
        assert set(smaller) <= set(bigger) and smaller != bigger
        for layer, u in smaller.items():
            assert u.channels is None or set(u.channels) <= set(bigger[layer].channels or ())


def test_auto_without_room_for_the_classifier_is_one_budget_error(family_models):
    from tinyengine_compiler.errors import BudgetError
    from tinyengine_compiler.pipeline import training_engine

    g = load_model(family_models["squeezenet"]["int8"])
    with pytest.raises(BudgetError, match=r"scheme auto: even its smallest update, the classifier only, needs \d+ B"):
        training_engine(g, load_scheme("auto"), Options(num_classes=4, budget_bytes=1024))
