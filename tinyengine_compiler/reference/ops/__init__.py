"""The int8 reference ops, one op a file; each registers itself as its OpKind's `reference`
(registry.py), which `interp` and the trainer run.

Every function takes (graph, node, *input arrays in node.inputs order) and returns the int8
output array; quantization parameters are read from the graph's tensors.
"""

from . import add, avg_pool2d, channels, conv2d, depthwise_conv2d, fully_connected  # noqa: F401
from . import fused_expand_depthwise, global_avg_pool, lut, max_pool2d, mul  # noqa: F401
