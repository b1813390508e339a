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
