"""Objects by the key people know them by (``PAY-12``), for the audit log's
key filter. The activity app imports no app: each app that gives its objects
keys registers a resolver from its ``AppConfig.ready()``::

    from pmhub.activity import keys
    keys.register_resolver(resolve_item_key)

A resolver takes ``(workspace_id, key)`` and returns the ``(object_type,
object_id)`` pairs that carry the key today, or an empty list."""

from collections.abc import Callable

Resolver = Callable[[int, str], list[tuple[str, int]]]
_resolvers: list[Resolver] = []


def register_resolver(resolver: Resolver) -> None:
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def resolve(workspace_id: int, key: str) -> list[tuple[str, int]]:
    found = []
    for resolver in _resolvers:
        found.extend(resolver(workspace_id, key))
    return found
