"""URL names are namespaced per app and no app's routes shadow another's:
every page's URL resolves to its own view whatever order the apps' URL
modules are included in."""

import itertools

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, SlugConverter, StringConverter
from django.urls.resolvers import RegexPattern

from pmhub import urls as project_urls
from products.urls import RegionKindConverter

APPS = ("accounts", "activity", "products", "metrics", "backlog", "roadmaps", "feedback")

# One sample value per converter: the sample URL of a route is built from them.
SAMPLES = {
    IntConverter: 7,
    SlugConverter: "acme",
    StringConverter: "PAY",
    RegionKindConverter: "objective",
}


def _app_routes():
    """(namespace, route name, sample kwargs, full route) of every named page route."""
    for include in get_resolver().url_patterns:
        if not isinstance(include, URLResolver) or include.namespace not in APPS:
            continue
        for pattern in include.url_patterns:
            assert isinstance(pattern, URLPattern)
            converters = pattern.pattern.converters
            kwargs = {
                name: SAMPLES[type(conv)]
                for name, conv in converters.items()
                if name not in pattern.default_args
            }
            yield include.namespace, pattern.name, kwargs, str(pattern.pattern)


ROUTES = list(_app_routes())


def _resolver(includes) -> URLResolver:
    return URLResolver(RegexPattern(r"^/"), list(includes))


def test_every_page_route_is_named_in_its_app_namespace():
    assert {ns for ns, *_ in ROUTES} == set(APPS)
    assert all(name for _ns, name, *_ in ROUTES)
    # Outside the app namespaces: the API only (DRF's router names, the change
    # feed, the schema).
    top = project_urls.urlpatterns
    unnamespaced = [str(p.pattern) for p in top if isinstance(p, URLResolver) and not p.namespace]
    assert unnamespaced == ["api/v1/"]
    assert [p.name for p in top if isinstance(p, URLPattern)] == [
        "event-list",
        "schema",
        "api-docs",
        "api-redoc",
    ]


@pytest.mark.parametrize(
    ("namespace", "name", "kwargs", "route"),
    ROUTES,
    ids=[f"{ns}:{name}:{route}" for ns, name, _kwargs, route in ROUTES],
)
def test_route_resolves_to_itself_in_any_include_order(namespace, name, kwargs, route):
    path = reverse(f"{namespace}:{name}", kwargs=kwargs)
    app_includes = [p for p in project_urls.urlpatterns if getattr(p, "namespace", None) in APPS]
    others = [p for p in project_urls.urlpatterns if p not in app_includes]
    for order in itertools.permutations(app_includes):
        match = _resolver([*order, *others]).resolve(path)
        assert match.view_name == f"{namespace}:{name}", (path, [p.namespace for p in order])
        assert match.route == route, path


def test_unknown_strategy_region_is_not_routed(client, pm, product):
    client.force_login(pm)
    assert client.get("/w/acme/p/PAY/bogus/").status_code == 404
    assert client.get("/w/acme/p/PAY/vision/").status_code == 302  # a real region
