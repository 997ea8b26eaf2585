"""The int8 reference executor: a numpy interpreter of the IR, the golden model of the C.

`interp.run_graph` runs a whole graph; `ops/` holds one op a file; `requant.py` holds the
integer requantization the C kernels use, bit for bit.  Imports only `ir/`.  The numerics are
documented in docs/numerics.md.
"""
