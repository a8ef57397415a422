"""Errors a user can cause. Each renders as one clear line; none should surface as a traceback."""


class SkureelError(Exception):
    """Base of every error skureel raises on purpose."""


class UnusableInput(SkureelError):
    """The input as a whole cannot be used (missing file, wrong type, corrupt archive...).

    The CLI maps it to exit code 2.
    """


_OS_WORDS = {
    "ENAMETOOLONG": "a file name got too long",
    "ENOSPC": "the disk is full",
    "EDQUOT": "the disk quota is used up",
    "EACCES": "permission denied",
    "EPERM": "permission denied",
    "ENOENT": "a file disappeared while it was being used",
    "EROFS": "the output folder is read-only",
    "EMFILE": "too many open files",
}


def plain_error(exc: BaseException) -> str:
    """One line for an unexpected failure: words first, never an object repr; the traceback goes to the log."""
    import errno
    import re

    if isinstance(exc, SkureelError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno is not None:
        name = errno.errorcode.get(exc.errno, "")
        if name in _OS_WORDS:
            return _OS_WORDS[name]
        return exc.strerror or "an operating-system error"
    if isinstance(exc, MemoryError):
        return "out of memory"
    text = re.sub(r"<[^<>]*\bat 0x[0-9a-f]+>", "an object", str(exc)).strip()
    text = text.splitlines()[0][:200] if text else ""
    return f"internal error ({type(exc).__name__}{': ' + text if text else ''}); details in skureel.log"
