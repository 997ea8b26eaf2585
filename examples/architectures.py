"""The paper's three architectures, as read off the released int8 models' shapes.

Read from the `.pkl` files in ../shared/models (the layer shapes only: no weights, no scales);
ARCHITECTURES.md has the same numbers as tables.  `build_models` turns each into a float ONNX
model with synthetic weights, so that the repo can be demonstrated and tested without the
paper's files.

Every block is an inverted residual: an optional 1x1 expand conv with ReLU6, a k x k depthwise
conv with ReLU6, a 1x1 project conv without activation, and a residual Add when the block keeps
its shape.  Padding is k // 2 on every side.
"""

from __future__ import annotations

from dataclasses import dataclass

INPUT_SIZE = 128      # square RGB input, 1x3x128x128
NUM_CLASSES = 1000    # ImageNet


@dataclass(frozen=True)
class Block:
    expand: int | None   # output channels of the 1x1 expand conv; None when the block has none
    kernel: int          # depthwise kernel size (k x k)
    stride: int          # depthwise stride
    out: int             # output channels of the 1x1 project conv
    residual: bool       # whether the block ends with a residual Add


@dataclass(frozen=True)
class Architecture:
    name: str
    first_conv: tuple[int, int, int]   # (output channels, kernel size, stride); 3 input channels
    blocks: tuple[Block, ...]
    classifier_in: int                 # channels that the global average pool feeds the classifier

    @property
    def numbered_convs(self) -> int:
        """Convs numbered as the paper's sparse-update schemes number them (classifier excluded)."""
        return 1 + sum(3 if b.expand is not None else 2 for b in self.blocks)

    @property
    def residual_adds(self) -> int:
        return sum(b.residual for b in self.blocks)


MBV2 = Architecture("mbv2-w0.35", (16, 3, 2), (
    Block(None, 3, 1, 8, False),
    Block(48, 3, 2, 8, False),
    Block(48, 3, 1, 8, True),
    Block(48, 3, 2, 16, False),
    Block(96, 3, 1, 16, True),
    Block(96, 3, 1, 16, True),
    Block(96, 3, 2, 24, False),
    Block(144, 3, 1, 24, True),
    Block(144, 3, 1, 24, True),
    Block(144, 3, 1, 24, True),
    Block(144, 3, 1, 32, False),
    Block(192, 3, 1, 32, True),
    Block(192, 3, 1, 32, True),
    Block(192, 3, 2, 56, False),
    Block(336, 3, 1, 56, True),
    Block(336, 3, 1, 56, True),
    Block(336, 3, 1, 112, False),
), 112)

PROXYLESS = Architecture("proxyless-w0.3", (16, 3, 2), (
    Block(None, 3, 1, 8, False),
    Block(24, 5, 2, 16, False),
    Block(48, 3, 1, 16, True),
    Block(48, 7, 2, 16, False),
    Block(48, 3, 1, 16, True),
    Block(48, 5, 1, 16, True),
    Block(48, 5, 1, 16, True),
    Block(96, 7, 2, 24, False),
    Block(72, 5, 1, 24, True),
    Block(72, 5, 1, 24, True),
    Block(72, 5, 1, 24, True),
    Block(144, 5, 1, 32, False),
    Block(96, 5, 1, 32, True),
    Block(96, 5, 1, 32, True),
    Block(96, 5, 1, 32, True),
    Block(192, 7, 2, 64, False),
    Block(384, 7, 1, 64, True),
    Block(192, 7, 1, 64, True),
    Block(192, 7, 1, 64, True),
    Block(384, 7, 1, 96, False),
), 96)

MCUNET = Architecture("mcunet-5fps", (16, 3, 2), (
    Block(None, 3, 1, 8, False),
    Block(32, 3, 2, 16, False),
    Block(48, 3, 1, 16, True),
    Block(48, 7, 2, 24, False),
    Block(120, 3, 1, 24, True),
    Block(120, 3, 2, 40, False),
    Block(160, 7, 1, 40, True),
    Block(160, 5, 1, 48, False),
    Block(144, 3, 1, 48, True),
    Block(192, 3, 1, 48, True),
    Block(240, 7, 2, 96, False),
    Block(384, 5, 1, 96, True),
    Block(384, 5, 1, 96, True),
    Block(576, 3, 1, 160, False),
), 160)

ARCHITECTURES = {a.name: a for a in (MBV2, PROXYLESS, MCUNET)}
