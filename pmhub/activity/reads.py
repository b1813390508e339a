"""Reads of the event log for pages: the workspace audit log (filters and
keyset pages, newest first) and an object's activity panel."""

import datetime as dt
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.core.exceptions import BadRequest
from django.db.models import Q
from django.utils import timezone

from pmhub.api.pagination import InvalidCursor, decode_cursor, encode_cursor

from . import keys
from .models import Event
from .verbs import VERBS

AUDIT_PAGE = 50
PANEL_SIZE = 15
CURSOR_KEY = "audit"


@dataclass
class AuditQuery:
    """The audit log's filters, parsed from the query string; a bad value is a
    form error shown on the page, never a 500."""

    person: int | None = None
    object_type: str = ""
    key: str = ""
    verb: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    errors: dict = field(default_factory=dict)

    @classmethod
    def from_params(cls, params) -> "AuditQuery":
        query = cls()
        person = params.get("person", "")
        if person:
            if person.isdigit():
                query.person = int(person)
            else:
                query.errors["person"] = "Pick a person from the list."
        query.object_type = params.get("object_type", "")[:60]
        query.key = params.get("key", "").strip().upper()[:60]
        verb = params.get("verb", "")
        if verb and verb not in VERBS:
            query.errors["verb"] = "Unknown action."
        else:
            query.verb = verb
        for name in ("since", "until"):
            raw = params.get(name, "")
            if raw:
                try:
                    setattr(query, name, dt.date.fromisoformat(raw))
                except ValueError:
                    query.errors[name] = "A date as YYYY-MM-DD."
        return query

    def apply(self, events, workspace_id: int):
        if self.key:
            # The object that has the key today, through the (workspace,
            # object) index; a key nothing has any more (a deleted item) by
            # the key the events kept.
            found = keys.resolve(workspace_id, self.key)
            if found:
                events = events.filter(
                    reduce(or_, (Q(object_type=t, object_id=i) for t, i in found))
                )
            else:
                events = events.filter(object_key=self.key)
        if self.person is not None:
            events = events.filter(actor_user_id=self.person)
        if self.object_type:
            events = events.filter(object_type=self.object_type)
        if self.verb:
            events = events.filter(verb=self.verb)
        if self.since:
            events = events.filter(created_at__gte=_start_of(self.since))
        if self.until:
            events = events.filter(created_at__lt=_start_of(self.until + dt.timedelta(days=1)))
        return events

    def params(self) -> dict:
        values = {
            "person": self.person,
            "object_type": self.object_type,
            "key": self.key,
            "verb": self.verb,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_events(workspace, query: AuditQuery, *, before: str = "", size: int | None = None):
    """One page of the workspace's events, newest first, and the cursor of
    the next (older) page or None. A keyset range on (workspace, id)."""
    size = size or AUDIT_PAGE
    events = query.apply(Event.objects.filter(workspace=workspace), workspace.pk).for_list()
    if before:
        try:
            (last_id,) = decode_cursor(before, CURSOR_KEY, [int])
        except InvalidCursor:
            raise BadRequest("This page link is not valid; start again.") from None
        events = events.filter(id__lt=last_id)
    rows = list(events.order_by("-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, encode_cursor(CURSOR_KEY, [rows[-1].id]) if more else None


def all_audit_events(workspace, query: AuditQuery, batch: int = 2000):
    """Every matching event, newest first, read in keyset batches (the CSV)."""
    events = query.apply(Event.objects.filter(workspace=workspace), workspace.pk).for_list()
    last = None
    while True:
        page = events if last is None else events.filter(id__lt=last)
        rows = list(page.order_by("-id")[:batch])
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].id


def object_activity(obj, *, size: int = PANEL_SIZE) -> list[Event]:
    """The latest events of an object and of what belongs to it (one query)."""
    workspace_id = _workspace_id_of(obj)
    return list(
        Event.objects.filter(workspace_id=workspace_id)
        .for_object(obj)
        .select_related("actor_user")[:size]
    )


def _workspace_id_of(obj) -> int:
    for path in ("workspace_id", "product.workspace_id", "roadmap.workspace_id"):
        value = obj
        try:
            for part in path.split("."):
                value = getattr(value, part)
        except AttributeError:
            continue
        return value
    raise TypeError(f"no workspace for {obj!r}")


def describe(event: Event) -> str:
    """A one-line account of the change for people: ``status: idea → planned``."""
    parts = []
    for name, pair in (event.changes or {}).items():
        old, new = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        label = name.replace("_", " ")
        if old in (None, "", []):
            parts.append(f"{label}: {_short(new)}")
        else:
            parts.append(f"{label}: {_short(old)} → {_short(new)}")
    return "; ".join(parts)


def _short(value) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 80 else text[:79] + "…"


# The object types the audit log filters by (value: the event's object_type).
OBJECT_TYPES = [
    ("backlog.item", "Backlog items"),
    ("backlog.hypothesis", "Hypotheses"),
    ("backlog.scoringmodel", "Scoring models"),
    ("products.product", "Products"),
    ("products.objective", "Objectives"),
    ("products.keyresult", "Key results"),
    ("products.vision", "Visions"),
    ("metrics.metric", "Metrics"),
    ("roadmaps.roadmap", "Roadmaps"),
    ("roadmaps.entry", "Roadmap entries"),
    ("roadmaps.milestone", "Milestones"),
    ("roadmaps.sharelink", "Share links"),
    ("feedback.feedback", "Feedback"),
    ("feedback.insight", "Insights"),
    ("feedback.company", "Companies"),
    ("feedback.person", "People"),
    ("feedback.publicidea", "Portal ideas"),
    ("accounts.membership", "Members"),
    ("accounts.invite", "Invites"),
]


def panel_context(obj) -> dict:
    """The context of ``activity/_panel.html`` for an object's page."""
    return {
        "activity": [(event, describe(event)) for event in object_activity(obj)],
        "object_type": obj._meta.label_lower,
    }
