"""Who is acting: a context variable set once per request or job.

The middleware sets the request's user (read lazily, so DRF's authentication
has run by the time a service records), the API's token authentication
replaces it with the token, portal views act as a visitor and tasks as the
system, each through ``acting_as``. ``record`` reads it; services never pass
an actor to it unless no request or job is acting (a shell, a test calling a
service directly), where the service's ``actor`` argument is used.
"""

import contextlib
import contextvars
from dataclasses import dataclass
from typing import Any

SYSTEM_LABEL = "PMHub"


@dataclass(frozen=True)
class Actor:
    kind: str  # an ActorKind value
    user: Any = None
    token: Any = None
    label: str = ""

    @property
    def user_id(self):
        return self.user.pk if self.user is not None else None

    @property
    def token_id(self):
        return self.token.pk if self.token is not None else None


_current: contextvars.ContextVar = contextvars.ContextVar("pmhub_actor", default=None)


def _user_label(user) -> str:
    return (str(user) or getattr(user, "username", ""))[:150]


def actor_for(who=None, *, label: str = "") -> Actor:
    """An ``Actor`` for a user, an API token, ``"system"`` or ``"visitor"``."""
    from pmhub.accounts.models import ApiToken

    if isinstance(who, Actor):
        return who
    if isinstance(who, ApiToken):
        return Actor("token", user=who.user, token=who, label=label or f"{who.name} (token)"[:150])
    if who is None or who == "system":
        return Actor("system", label=label or SYSTEM_LABEL)
    if who == "visitor":
        return Actor("visitor", label=(label or "Portal visitor")[:150])
    if getattr(who, "is_authenticated", False):
        return Actor("user", user=who, label=label or _user_label(who))
    raise ValueError(f"cannot act as {who!r}")


@contextlib.contextmanager
def acting_as(who=None, *, label: str = ""):
    """Within the block, events are recorded as done by ``who`` (a user, an
    API token, ``"system"`` or ``"visitor"``)."""
    reset = _current.set(actor_for(who, label=label))
    try:
        yield
    finally:
        _current.reset(reset)


def set_actor(who=None, *, label: str = "") -> None:
    """Act as ``who`` for the rest of the current context (the token
    authentication, which has no block to wrap; the middleware resets it)."""
    _current.set(actor_for(who, label=label))


class _RequestActor:
    """The request's user, read when the first event is recorded."""

    def __init__(self, request):
        self.request = request
        self.actor = None

    def resolve(self):
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if self.actor is None or self.actor.user is not user:
            self.actor = actor_for(user)  # once per request, not per event
        return self.actor


def current_actor(fallback=None) -> Actor:
    """The acting actor; ``fallback`` (a service's actor) when nobody is set."""
    value = _current.get()
    if isinstance(value, _RequestActor):
        value = value.resolve()
    if value is not None:
        return value
    if fallback is not None:
        return actor_for(fallback)
    return actor_for("system")


class ActorMiddleware:
    """Makes the request's user the actor of every event the request records."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reset = _current.set(_RequestActor(request))
        try:
            return self.get_response(request)
        finally:
            _current.reset(reset)
