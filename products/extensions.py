"""Fields that a downstream app adds to key results.

products/ imports no other app, yet a key result can follow a metric: the
link is a metrics/ row (``metrics.KeyResultLink``), edited on the key
result's form and API as if it were the key result's own fields, and shown
on its strategy card. A downstream app installs a ``KeyResultExtension``
from ``AppConfig.ready()`` (as backlog/panels.py lets apps add item panels)::

    from products.extensions import register_key_result_extension
    register_key_result_extension(MetricFollowing())

products/ calls it at these seams, and nowhere else:

- reads: ``related`` lookups are joined wherever key results are read for
  the strategy page or the API, so the extension's fields and badge cost no
  query per row;
- the form (``form_fields``, ``initial``) and the API (``api_fields``: each
  field reads its own value from the key result);
- the writes: ``products.services.create_key_result`` / ``update_key_result``
  call ``clean`` before anything is written and ``save`` after the key
  result's own fields, in the same transaction, so a failure changes nothing;
- ``badge_template``, rendered on the key result's line of the strategy page
  with ``kr``, ``workspace`` and ``product`` in its context.

Data computed downstream (a followed metric's value) comes back through
``products.services.set_key_result_value``, never by writing products' tables.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError


class KeyResultExtension:
    """Base class: an extension owns the names in ``fields``."""

    fields: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    badge_template: str = ""

    def form_fields(self, *, product) -> dict:
        """Django form fields, by name, for the key result form of ``product``."""
        return {}

    def initial(self, key_result) -> dict:
        """The form's initial values for an existing key result."""
        return {}

    def api_fields(self) -> dict:
        """DRF serializer fields, by name; each reads its value from the key result."""
        return {}

    def clean(self, *, objective, values: dict) -> None:
        """Validate ``values`` (a subset of ``fields``) for a key result of
        ``objective``; raise ValidationError keyed by field name."""

    def save(self, actor, *, key_result, values: dict, changed: set[str]) -> bool:
        """Store ``values`` after the key result's own fields were saved
        (``changed``: every field name the write named). Returns True when it
        changed the key result row (the caller reloads it)."""
        return False


_EXTENSIONS: list[KeyResultExtension] = []


def register_key_result_extension(extension: KeyResultExtension) -> None:
    if any(type(e) is type(extension) for e in _EXTENSIONS):
        return
    taken = {name for e in _EXTENSIONS for name in e.fields}
    if taken & set(extension.fields):
        raise ValueError(f"Key result fields taken twice: {sorted(taken & set(extension.fields))}")
    _EXTENSIONS.append(extension)


def key_result_extensions() -> tuple[KeyResultExtension, ...]:
    return tuple(_EXTENSIONS)


def extended_field_names() -> set[str]:
    return {name for e in _EXTENSIONS for name in e.fields}


def related_lookups() -> list[str]:
    """What the extensions read from a key result, for ``select_related``."""
    return [lookup for e in _EXTENSIONS for lookup in e.related]


def badge_templates() -> list[str]:
    return [e.badge_template for e in _EXTENSIONS if e.badge_template]


def split_values(values: dict) -> tuple[dict, list[tuple[KeyResultExtension, dict]]]:
    """``values`` split into the key result's own and each extension's share."""
    own = dict(values)
    shares = []
    for extension in _EXTENSIONS:
        share = {name: own.pop(name) for name in extension.fields if name in own}
        shares.append((extension, share))
    return own, shares


def clean_extended(objective, shares) -> None:
    errors: dict = {}
    for extension, share in shares:
        if not share:
            continue
        try:
            extension.clean(objective=objective, values=share)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


def save_extended(actor, key_result, shares, *, changed: set[str]) -> bool:
    reload = False
    for extension, share in shares:
        reload |= bool(extension.save(actor, key_result=key_result, values=share, changed=changed))
    return reload
