"""Domain errors raised by services.

HTML views turn them into form errors or conflict panels; the DRF exception
handler maps them to HTTP statuses (see pmhub/api/exceptions.py).
"""


class DomainError(Exception):
    """A request that is well formed but conflicts with the current state."""

    status_code = 409

    def __init__(self, message: str = "", **context):
        super().__init__(message or self.__doc__)
        self.message = message or (self.__doc__ or "").strip()
        self.context = context


class VersionConflict(DomainError):
    """Someone else saved this first; nothing was changed."""

    status_code = 412

    def __init__(self, message: str = "", *, current=None, **context):
        super().__init__(message, **context)
        self.current = current
