"""tinyengine-compiler: compile an int8 ONNX image model into C that trains it on a Cortex-M7."""

__version__ = "0.1.0"
