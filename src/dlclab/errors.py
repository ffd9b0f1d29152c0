"""Exception types of the lab. Every error names the file or field and what was expected."""
from __future__ import annotations


class DlclabError(Exception):
    """Base class of the lab's own errors."""


class FormatError(DlclabError):
    """A raw file or export does not match its layout.

    Carries the file, the byte offset, the package index (where the format has
    packages) and what was expected, so that the message alone locates the fault.
    """

    def __init__(
        self,
        path: object,
        message: str,
        *,
        offset: int | None = None,
        package: int | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.path = str(path)
        self.offset = offset
        self.package = package
        self.expected = expected
        self.found = found
        where = [self.path]
        if offset is not None:
            where.append(f"byte offset {offset}")
        if package is not None:
            where.append(f"package {package}")
        text = f"{', '.join(where)}: {message}"
        if expected is not None:
            text += f" (expected {expected}"
            text += f", found {found})" if found is not None else ")"
        self.message = message
        super().__init__(text)


class CutError(DlclabError, ValueError):
    """A selection cut that cannot be applied: unknown quantity, bad operator or value."""


class ParameterError(DlclabError, ValueError):
    """A user parameter outside its declared type or range."""
