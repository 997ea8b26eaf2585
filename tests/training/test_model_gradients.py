"""Whole-model gradient check: MCUNet-5FPS (paper scheme, 128x128), the gradient of the loss
with respect to every trained parameter, float64 mode, against central finite differences of
the straight-through real forward with numpy's own log-sum-exp (independent of our exp/log) of
the classifier's real logits.  Both on the unscheduled training graph and on the one the C runs
(frozen prefix fused, updates reordered into blocks, ops in place)."""

import numpy as np
import pytest

from tinyengine_compiler.frontend.inputs import quantize_image
from tinyengine_compiler.frontend.paper_pkl import load_paper_model
from tinyengine_compiler.ir import OpKind
from tinyengine_compiler.pipeline import training_engine, training_graph
from tinyengine_compiler.reference.real_forward import real_values, run_real
from tinyengine_compiler.scheme import PRESETS
from tinyengine_compiler.training.trainer import run_backward

from ..sample_images import china
from .finite_differences import central_difference

LABEL = 698   # palace


@pytest.mark.parametrize("scheduled", [False, True], ids=["unscheduled", "scheduled"])
def test_mcunet_paper_scheme_gradients(paper_models_dir, scheduled):
    g = load_paper_model(f"{paper_models_dir}/mcunet-5fps.pkl")
    scheme = PRESETS["paper-mcunet-5fps"]
    train = training_engine(g, scheme).graph if scheduled else training_graph(g, scheme)[1]
    values = run_real(train, real_values(train, quantize_image(g, china())))
    if scheduled:   # the fused frozen prefix computes the real forward of the ops it replaced
        plain = training_graph(g, scheme)[1]
        plain_values = run_real(plain, real_values(plain, quantize_image(g, china())))
        np.testing.assert_allclose(values[g.outputs[0]], plain_values[g.outputs[0]], rtol=1e-12, atol=0)
    grads = run_backward(train, {**values, "label": np.array([LABEL])}, np.float64)
    rng = np.random.default_rng(0)
    got, fd, n_params = [], [], 0
    for upd in (n for n in train.nodes if n.op == OpKind.SGD_UPDATE):
        n_params += 1
        param, grad = upd.inputs[0], grads[upd.inputs[1]]
        channels = upd.attrs["channels"]
        # two random coordinates and the largest one of each trained parameter
        picks = list(rng.choice(grad.size, 2, replace=False)) + [int(np.argmax(np.abs(grad)))]
        for flat in picks:
            c = np.unravel_index(flat, grad.shape)
            pc = c if channels is None else (*c[:-1], channels[c[-1]])   # the column in the full weight
            fd.append(central_difference(train, values, param, pc, LABEL))
            got.append(grad[c])
    got, fd = np.array(got), np.array(fd)
    assert n_params == 30 and len(fd) >= 50
    assert np.count_nonzero(np.abs(fd) > 1e-6) >= 30, "too few informative coordinates"
    assert np.linalg.norm(got - fd) / np.linalg.norm(fd) <= 1e-4
    np.testing.assert_allclose(got, fd, rtol=1e-3, atol=1e-6 * np.abs(fd).max())
