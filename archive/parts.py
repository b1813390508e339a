"""The registry of archive parts, in load order.

A part is one table of a workspace: which rows belong to the workspace, and
which columns refer to rows of earlier parts (remapped to archive ids on
export and to new ids on import). Columns are read from the model, so a part
is usually one line; an app that adds models adds its parts here, after the
parts its foreign keys point to (``tests/archive/test_parts.py`` checks the
order and that every model of the workspace is either a part or listed in
``NOT_ARCHIVED`` with the reason).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

USER_MODEL = "accounts.user"
WORKSPACE_MODEL = "accounts.workspace"


@dataclass(frozen=True)
class Part:
    name: str  # file name in the zip: "<name>.jsonl"
    model_label: str  # "backlog.item"
    # Lookup from the model to its workspace: "product__workspace"; "" for a
    # table of people rather than workspaces (``rows`` then picks the rows).
    scope: str
    exclude: tuple[str, ...] = ()  # columns never exported (secrets, server-local state)
    # Columns written fresh on import (a new secret for a webhook, a share link's token).
    fresh: dict[str, Callable[[], object]] = field(default_factory=dict)
    # Extra columns that hold ids of rows of another part ({column: model label}),
    # for integer columns that are not foreign keys (an item history row's ``id``).
    id_columns: dict[str, str] = field(default_factory=dict)
    # Narrows the rows (history of items that still exist, events not about the archive).
    rows: Callable[[models.QuerySet, object], models.QuerySet] | None = None
    # Turns a row's values before writing / after reading (events' polymorphic ids).
    dump: Callable[[dict, object], dict] | None = None
    # ``load`` may return None: the row is skipped (already on this server).
    load: Callable[[dict, object], dict | None] | None = None
    # Runs once the part's rows are in (values derived from the new ids).
    finish: Callable[[object], None] | None = None

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    def queryset(self, workspace):
        qs = self.model._default_manager.order_by("pk")
        if self.scope:
            qs = qs.filter(**{self.scope: workspace})
        return self.rows(qs, workspace) if self.rows else qs

    def columns(self) -> list[models.Field]:
        """The exported columns: every concrete field but the primary key (unless
        it is a one-to-one link to another part's row), the workspace and the
        excluded ones."""
        out = []
        for f in self.model._meta.concrete_fields:
            if (f.primary_key and not f.is_relation) or f.name in self.exclude:
                continue
            if f.is_relation and f.related_model._meta.label_lower == WORKSPACE_MODEL:
                continue
            out.append(f)
        return out

    def references(self) -> dict[str, str]:
        """{attname: model label} of every exported column that holds an id."""
        refs = {
            f.attname: f.related_model._meta.label_lower for f in self.columns() if f.is_relation
        }
        refs.update(self.id_columns)
        return refs


_parts: list[Part] = []


def register_part(part: Part) -> None:
    """Append a part; it loads after every part registered before it."""
    if any(p.name == part.name for p in _parts):
        raise ValueError(f"archive part {part.name!r} is registered twice")
    _parts.append(part)


def registered() -> list[Part]:
    return list(_parts)


def through(model_label: str, m2m: str) -> str:
    """The label of a many-to-many field's table (``backlog.item_tags``)."""
    return apps.get_model(model_label)._meta.get_field(m2m).remote_field.through._meta.label_lower


# Models of a workspace that are not in the archive, and why.
NOT_ARCHIVED = {
    "accounts.invite": "single-use invite links belong to the server that sent them",
    "accounts.apitoken": "personal tokens are secrets of a user on one server",
    "activity.consumercursor": "a server's position in its own event log",
    "webhooks.webhookdelivery": "delivery attempts to endpoints, done on the old server",
    "backlog.importjob": "CSV import jobs are done work with their uploaded text",
    "feedback.importjob": "CSV import jobs are done work with their uploaded text",
    "archive.archivejob": "export and import jobs of this server",
    "archive.importedevents": "which events this server imported",
    "discussions.digestrun": "which daily digests this server emailed",
}

# Parts of older archive versions that later versions dropped, with the
# first version without them: their files are checked, and not loaded.
RETIRED = {
    # Item history became item.* events (in the events part); a version 1
    # archive's events part carries them for every item changed through
    # PMHub, and its historical rows are not read.
    "item_history": 2,
}
