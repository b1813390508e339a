"""Undo of the last destructive action on a page (a delete, a bulk edit, an
archive), for ``UNDO_SECONDS``.

The view that did the action calls ``offer_undo(request, response, kind=…,
payload=…, message=…)``: the payload (what the action changed, and the
version each row had right after it) is signed, bound to the person and the
workspace, and handed to the page — in the session for a redirect (the next
page shows the toast, ``undo_toast`` context processor), in an ``HX-Trigger``
event for an htmx swap (static/js/undo.js shows the same toast). The toast's
Undo button posts the token to ``undo`` (``accounts:undo``), which checks its
age and calls the handler the app registered for ``kind`` from its
``AppConfig.ready()``::

    register_undo("backlog.bulk", undo.undo_bulk_edit)

A handler is ``fn(actor, workspace, payload) -> str`` (the message to show)
and goes through the app's own services, at the versions in the payload, so
an undo after someone else changed the object raises ``VersionConflict`` and
is refused with a message, changing nothing (handlers run in one
transaction).
"""

import json
from collections.abc import Callable

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from pmhub.accounts.decorators import workspace_view
from pmhub.errors import DomainError, VersionConflict
from pmhub.web import safe_next

UNDO_SECONDS = 10
# A click at 9.9 s still arrives after the network: a little grace server-side.
GRACE_SECONDS = 3
SALT = "pmhub.undo"
SESSION_KEY = "pmhub_undo"
EVENT = "pmhub:undo"

_HANDLERS: dict[str, Callable] = {}


def register_undo(kind: str, handler: Callable) -> None:
    _HANDLERS[kind] = handler


def make_token(request, *, kind: str, payload) -> str:
    return signing.dumps(
        {"k": kind, "p": payload, "u": request.user.pk, "w": request.workspace.pk},
        salt=SALT,
        compress=True,
    )


def offer_undo(request, response, *, kind: str, payload, message: str):
    """Let the person undo what ``response`` reports for the next
    UNDO_SECONDS: an htmx response carries the toast in an ``HX-Trigger``
    event (merged with any event already set); any other response (a
    redirect) leaves it in the session for the next page."""
    offer = {
        "message": message,
        "token": make_token(request, kind=kind, payload=payload),
        "url": reverse("accounts:undo", args=[request.workspace.slug]),
        "seconds": UNDO_SECONDS,
    }
    if getattr(request, "htmx", False):
        events = {}
        raw = response.get("HX-Trigger")
        if raw:
            try:
                events = json.loads(raw)
            except ValueError:
                events = {name.strip(): None for name in raw.split(",")}
        events[EVENT] = offer
        response["HX-Trigger"] = json.dumps(events)
    else:
        request.session[SESSION_KEY] = offer
    return response


def undo_toast(request):
    """Context processor: the undo offer a redirect left for this page (a
    workspace's page, whose view has read the session already)."""
    if getattr(request, "workspace", None) is None:
        return {}
    session = getattr(request, "session", None)
    if session is None or SESSION_KEY not in session:
        return {}
    return {"undo_offer": session.pop(SESSION_KEY)}


@require_POST
@workspace_view(edit=True)
def undo(request):
    back = safe_next(request, reverse("products:workspace", args=[request.workspace.slug]))
    try:
        data = signing.loads(
            request.POST.get("token", ""), salt=SALT, max_age=UNDO_SECONDS + GRACE_SECONDS
        )
    except signing.SignatureExpired:
        messages.error(request, f"Too late to undo: it can be undone for {UNDO_SECONDS} seconds.")
        return redirect(back)
    except signing.BadSignature:
        messages.error(request, "Nothing to undo.")
        return redirect(back)
    handler = _HANDLERS.get(data.get("k"))
    if handler is None or data.get("u") != request.user.pk or data.get("w") != request.workspace.pk:
        messages.error(request, "Nothing to undo.")
        return redirect(back)
    try:
        with transaction.atomic():
            message = handler(request.user, request.workspace, data["p"])
    except VersionConflict as exc:
        messages.error(request, f"Not undone: {exc.message}")
    except (DomainError, ValidationError) as exc:
        text = exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)
        messages.error(request, f"Not undone: {text}")
    else:
        messages.success(request, message)
    return redirect(back)
