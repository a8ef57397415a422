"""Errors a user can cause. Each renders as one clear line; none should surface as a traceback."""


class SkureelError(Exception):
    """Base of every error skureel raises on purpose."""


class UnusableInput(SkureelError):
    """The input as a whole cannot be used (missing file, wrong type, corrupt archive...).

    The CLI maps it to exit code 2.
    """
