"""Optimistic concurrency: every mutable row carries a ``version``.

A write names the version it was based on. The update is one conditional SQL
statement (``UPDATE ... WHERE id = %s AND version = %s``), so of two writers
holding the same version exactly one wins, on SQLite and PostgreSQL alike.
"""

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models import F, Q
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
    """Turn an ``If-Match`` header (``"3"``, ``W/"3"``, or an ETag the API
    answered, ``"3.<digest>"``) into a version number."""
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"').split(".", 1)[0]
    if not (value.isascii() and value.isdigit() and len(value) <= 10):
        return -1  # matches no version: the precondition fails
    return int(value)


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
    skipped = _unvalidated_fields(instance, fields)
    instance.full_clean(exclude=skipped, validate_unique=False, validate_constraints=False)
    # A constraint over a written field and an unwritten one (a name unique per
    # product) is checked too: excluding the product would skip it, and the
    # database would answer the rename with an IntegrityError.
    instance.validate_unique(exclude=skipped)
    _validate_constraints(instance, fields)
    now = timezone.now()
    db_values = {name: getattr(instance, _attname(model, name)) for name in fields}
    db_values = {_attname(model, name): value for name, value in db_values.items()}
    try:
        with transaction.atomic():
            updated = model._base_manager.filter(pk=instance.pk, version=base_version).update(
                **db_values, version=F("version") + 1, updated_at=now
            )
    except IntegrityError as exc:  # a concurrent write took the value after the check
        raise integrity_error(instance, exc, written=fields) from exc
    if updated != 1:
        current = model._base_manager.filter(pk=instance.pk).first()
        raise VersionConflict(current=current)
    instance.version = base_version + 1
    instance.updated_at = now
    return instance


def _attname(model, name: str) -> str:
    return model._meta.get_field(name).attname


def _constraint_fields(model, constraint) -> set[str]:
    """The names of the fields a constraint reads (fields, expressions, condition)."""
    names = set(getattr(constraint, "fields", ()) or ())
    for expression in getattr(constraint, "expressions", ()) or ():
        names |= {ref[0] for ref in model._get_expr_references(expression)}
    for attr in ("condition", "check"):
        condition = getattr(constraint, attr, None)
        if isinstance(condition, Q):
            names |= set(condition.referenced_base_fields)
    by_attname = {f.attname: f.name for f in model._meta.concrete_fields}
    return {by_attname.get(name, name) for name in names}


def _constraints(model):
    for constraint in model._meta.constraints:
        yield constraint.name, _constraint_fields(model, constraint)
    for n, together in enumerate(model._meta.unique_together):
        yield f"unique_together_{n}", set(together)


def _validate_constraints(instance, fields) -> None:
    """Check each constraint that reads a written field, with the row's other
    fields as they are; a violation is a message on the written field(s)."""
    model = type(instance)
    using = router.db_for_write(model, instance=instance)
    errors: dict[str, list[str]] = {}
    for constraint in model._meta.constraints:
        written = sorted(_constraint_fields(model, constraint) & set(fields))
        if not written:
            continue
        try:
            constraint.validate(model, instance, using=using)
        except ValidationError as exc:
            for name in written:
                errors.setdefault(name, []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)


def integrity_error(instance, exc: IntegrityError, *, written) -> ValidationError:
    """The 400 for a write the database refused: a message on the written
    field of the violated constraint (the constraint's name is in the error on
    PostgreSQL, its columns on SQLite), else on the whole object."""
    model = type(instance)
    text = str(exc)
    for name, names in _constraints(model):
        columns = [model._meta.get_field(n).column for n in names if _is_field(model, n)]
        named = name in text or (columns and all(f".{c}" in text for c in columns))
        if not named:
            continue
        fields = sorted(names & set(written)) or ["__all__"]
        if all(_is_field(model, n) for n in names):
            message = instance.unique_error_message(model, tuple(sorted(names))).messages[0]
        else:
            message = f"This conflicts with another {model._meta.verbose_name}."
        return ValidationError(dict.fromkeys(fields, message))
    return ValidationError(f"This conflicts with another {model._meta.verbose_name}.")


def _is_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


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
