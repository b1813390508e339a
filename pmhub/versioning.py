"""Optimistic concurrency: every mutable row carries a ``version``.

A write names the version it was based on. The update is one conditional SQL
statement (``UPDATE ... WHERE id = %s AND version = %s``), so of two writers
holding the same version exactly one wins, on SQLite and PostgreSQL alike.
"""

from django.db import models
from django.db.models import F
from django.utils import timezone

from .errors import VersionConflict


class Versioned(models.Model):
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        abstract = True

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def parse_etag(value: str | None) -> int | None:
    """Turn an ``If-Match`` header (``"3"`` or ``W/"3"``) into a version number."""
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    try:
        return int(value)
    except ValueError:
        return -1  # matches no version: the precondition fails


def save_versioned(instance: Versioned, *, expected_version: int | None, fields: dict) -> Versioned:
    """Validate ``fields`` on ``instance`` and write them if the row is still at
    ``expected_version`` (None means "the version this instance was loaded at").

    Raises ``ValidationError`` for bad values and ``VersionConflict`` (with the
    current row attached) when someone else saved first. Nothing is written in
    either case.
    """
    model = type(instance)
    base_version = instance.version if expected_version is None else expected_version
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean(exclude=_unvalidated_fields(instance, fields))
    now = timezone.now()
    db_values = {name: getattr(instance, _attname(model, name)) for name in fields}
    db_values = {_attname(model, name): value for name, value in db_values.items()}
    updated = model._base_manager.filter(pk=instance.pk, version=base_version).update(
        **db_values, version=F("version") + 1, updated_at=now
    )
    if updated != 1:
        current = model._base_manager.filter(pk=instance.pk).first()
        raise VersionConflict(current=current)
    instance.version = base_version + 1
    instance.updated_at = now
    return instance


def _attname(model, name: str) -> str:
    return model._meta.get_field(name).attname


def _unvalidated_fields(instance, fields: dict) -> list[str]:
    """Validate only the fields being written (plus model-wide unique checks)."""
    return [
        f.name for f in instance._meta.concrete_fields if f.name not in fields and not f.primary_key
    ]


def delete_versioned(instance: Versioned, *, expected_version: int | None) -> None:
    """Delete ``instance`` if the row is still at ``expected_version`` (None:
    whatever version it is at). Cascades and delete signals (history rows)
    follow as with ``Model.delete()``. Raises ``VersionConflict`` with the
    current row when someone changed it first, or ``None`` when it is gone.
    Permission checks stay with the caller's service."""
    model = type(instance)
    qs = model._base_manager.filter(pk=instance.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    if not qs.delete()[0]:
        raise VersionConflict(current=model._base_manager.filter(pk=instance.pk).first())
