"""QAS on an imported paper model: per trained layer, the weight-norm / gradient-norm ratio of
the int8-domain parameters with QAS is within 10x of the fp32 graph's ratio, and without QAS it
is not (it is off by about s_w^2)."""

import numpy as np

from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.frontend.paper_pkl import load_paper_model
from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.pipeline import training_graph
from tinyengine_compiler.reference.interp import run_graph_all
from tinyengine_compiler.reference.real_forward import real_values, run_real
from tinyengine_compiler.scheme import PRESETS
from tinyengine_compiler.training.trainer import run_backward

from ..sample_images import china

LABEL = 698


def ratios(train, forward, x, dtype_forward):
    """layer weight -> ||P_bar|| / ||grad_scale * dL/dP|| (int8 graph) or ||P|| / ||dL/dP|| (fp32)."""
    if dtype_forward == "int8":
        values = run_graph_all(forward, x)
    else:
        values = run_real(train, real_values(train, x, np.float32))
    grads = run_backward(train, {**values, "label": np.array([LABEL])}, np.float32)
    out = {}
    for upd in (n for n in train.nodes if n.op == OpKind.SGD_UPDATE and n.attrs["param"] == "weight"):
        w = values[upd.inputs[0]]
        ch = upd.attrs["channels"]
        w = w if ch is None else w[..., list(ch)]
        g = grads[upd.inputs[1]]
        if dtype_forward == "int8":
            t = train.tensors[upd.inputs[0]]
            shape = [1] * g.ndim
            shape[t.qparams.axis] = -1
            g = g * train.tensors[upd.inputs[2]].data.reshape(shape)
        out[upd.inputs[0]] = np.linalg.norm(w.astype(np.float64)) / np.linalg.norm(g.astype(np.float64))
    return out


def test_qas_restores_the_fp32_weight_to_gradient_ratio(paper_models_dir):
    g = load_paper_model(f"{paper_models_dir}/mcunet-5fps.pkl")
    x = quantize_image(g, china())
    _, with_qas = training_graph(g, PRESETS["paper-mcunet-5fps"])
    _, without = training_graph(g, PRESETS["paper-mcunet-5fps"], use_qas=False)
    fp32 = ratios(with_qas, g, x, "fp32")
    qas = ratios(with_qas, g, x, "int8")
    plain = ratios(without, g, x, "int8")
    assert len(fp32) == 7   # 6 convs + the classifier
    for name in fp32:
        assert 0.1 <= qas[name] / fp32[name] <= 10, (name, qas[name], fp32[name])
        assert not 0.1 <= plain[name] / fp32[name] <= 10, (name, plain[name], fp32[name])
