"""Passes: pure Graph -> Graph functions, one a file (see each file's docstring)."""
