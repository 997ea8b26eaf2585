"""The registry: OpKind -> reference function, one op a file.

Every function takes (graph, node, *input arrays in node.inputs order) and returns the int8
output array; quantization parameters are read from the graph's tensors.
"""

from __future__ import annotations

from ...ir import OpKind
from .add import add
from .avg_pool2d import avg_pool2d
from .channels import channel_select, concat
from .conv2d import conv2d
from .depthwise_conv2d import depthwise_conv2d
from .fully_connected import fully_connected
from .fused_expand_depthwise import fused_expand_depthwise
from .global_avg_pool import global_avg_pool
from .lut import lut
from .max_pool2d import max_pool2d
from .mul import mul

OPS = {
    OpKind.CONV2D: conv2d,
    OpKind.DEPTHWISE_CONV2D: depthwise_conv2d,
    OpKind.FULLY_CONNECTED: fully_connected,
    OpKind.ADD: add,
    OpKind.GLOBAL_AVG_POOL: global_avg_pool,
    OpKind.AVG_POOL2D: avg_pool2d,
    OpKind.MAX_POOL2D: max_pool2d,
    OpKind.CONCAT: concat,
    OpKind.CHANNEL_SELECT: channel_select,
    OpKind.LUT: lut,
    OpKind.MUL: mul,
    OpKind.FUSED_EXPAND_DEPTHWISE: fused_expand_depthwise,
}
