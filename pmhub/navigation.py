"""Product tabs shown under the header.

Each app registers its own tabs from ``AppConfig.ready()`` so that the base
layout does not need to know which apps exist (and apps stay independent)::

    from pmhub.navigation import register_product_tab
    register_product_tab("roadmaps", "Roadmaps", "roadmaps:roadmaps", order=30)

``url_name`` (namespaced, ``"app:name"``) is reversed with
``(workspace.slug, product.key)``.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ProductTab:
    section: str
    label: str
    url_name: str
    order: int


_TABS: dict[str, ProductTab] = {}


def register_product_tab(section: str, label: str, url_name: str, *, order: int) -> None:
    _TABS[section] = ProductTab(section, label, url_name, order)


def product_tabs() -> list[ProductTab]:
    return sorted(_TABS.values(), key=lambda t: (t.order, t.label))


@dataclass(frozen=True)
class WorkspaceLink:
    label: str
    url_name: str
    order: int


_WORKSPACE_LINKS: dict[str, WorkspaceLink] = {}


def register_workspace_link(label: str, url_name: str, *, order: int) -> None:
    """A workspace-wide page (roadmaps and portfolios, …) linked from the
    workspace home; ``url_name`` is reversed with ``(workspace.slug,)``."""
    _WORKSPACE_LINKS[url_name] = WorkspaceLink(label, url_name, order)


def workspace_links() -> list[WorkspaceLink]:
    return sorted(_WORKSPACE_LINKS.values(), key=lambda link: (link.order, link.label))
