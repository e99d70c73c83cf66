"""Errors a user can cause. The CLI prints them as one line and exits non-zero."""


class UserError(Exception):
    """A problem with input or environment that the user can fix; the message says how."""


class UnknownDatasetError(UserError):
    pass


class InvalidArgumentError(UserError):
    pass


class OutputLocationError(UserError):
    pass


class InsufficientMemoryError(UserError):
    """The decode workers need more memory than the container's limit."""


class LocalStorageError(UserError):
    """A local folder the run writes to (scratch, output) is full, read-only or not permitted."""
