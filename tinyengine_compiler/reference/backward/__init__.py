"""The backward reference kernels, one op a file; each registers itself as its OpKind's
`reference` (registry.py).

Every function takes (graph, node, *input arrays in node.inputs order, dtype) and returns the
output array (SOFTMAX_CROSS_ENTROPY returns (gradient, loss)).  Inputs may be int8/int32
(quantized: saved activations, weights; dequantized here by `_common.real`) or floating point
(already real: backward tensors, or the float64 values of the gradient checker); REAL_LOGITS
reads the int8 ones as integers (the classifier's exact accumulator).  With
dtype=float32 the arithmetic is the one the C must reproduce bit for bit: every reduction runs
in a fixed, documented order with a float32 accumulator, never through np.sum / np.dot /
matmul, and no fused multiply-add (docs/numerics.md, "Training numerics").  dtype=float64 runs
the same code for the gradient checker.  SGD_UPDATE's (`sgd_update.py`) changes
the stored parameters instead; the trainer calls it with their state.
"""

from . import avg_pool2d_grad, bias_grad, channels, clamp_grad, conv2d_grad_input  # noqa: F401
from . import conv2d_grad_weight, depthwise_conv2d_grad_input, depthwise_conv2d_grad_weight  # noqa: F401
from . import fully_connected_grad_input, fully_connected_grad_weight, global_avg_pool_grad  # noqa: F401
from . import grad_accumulate, lut, max_pool2d_grad, mul, real_logits, sgd_update  # noqa: F401
from . import softmax_cross_entropy  # noqa: F401
