"""The only exceptions a user ever sees.

Every failure the compiler can explain is a `TteError` whose message is one line that names
the cause (the node, the op, the file, the budget).  The CLI prints that line and exits with
`exit_code`; anything else escaping is a bug.
"""


class TteError(Exception):
    """Base class: a user-facing error with a one-line message."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class ModelFormatError(TteError):
    """The input file is not a model we can read (broken, truncated, hostile, inconsistent)."""


class UnsupportedError(TteError):
    """The model is well formed but uses an op, attribute or shape we do not compile."""


class ConfigError(TteError):
    """A bad option or configuration value (exit code 2, like a usage error)."""

    exit_code = 2


class BudgetError(TteError):
    """The plan needs more SRAM than the budget allows (exit code 1)."""
