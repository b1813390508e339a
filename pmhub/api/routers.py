from rest_framework.routers import DefaultRouter


class Router(DefaultRouter):
    """The API's router: detail routes take an integer id (``[0-9]+``), so
    ``/api/v1/share-links/abc/`` matches no route and is a JSON 404 before a
    view turns ``abc`` into a query. A viewset may declare its own
    ``lookup_value_regex``."""

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if "lookup_value_regex" not in _attributes(viewset):
            viewset = type(viewset.__name__, (viewset,), {"lookup_value_regex": "[0-9]+"})
        return super().get_lookup_regex(viewset, lookup_prefix)


def _attributes(cls) -> set[str]:
    return {name for klass in cls.__mro__ for name in vars(klass)}
