"""The built-in commentable types: backlog items, roadmap entries,
objectives, customers (companies) and feedback. Another app's type plugs in
with one ``registry.register(...)`` call."""

from django.urls import reverse

from backlog.models import Item
from feedback.models import Company, Feedback
from pmhub.activity.models import Event
from products.models import Objective
from roadmaps.models import Entry

from .registry import Commentable, register


def thread_url(label: str, obj, slug: str) -> str:
    """The generic discussion page of any commentable object."""
    return reverse("discussions:thread", args=[slug, label, obj.pk])


def _watchers(model, created_verb: str, *fields):
    """Implicit watchers: whoever created the object (the actor of its
    creation event) and the people its ``fields`` name (its owner): one
    query for the rows, one for the events."""
    label = model._meta.label_lower

    def implicit(ids: list[int]) -> dict[int, set[int]]:
        found: dict[int, set[int]] = {i: set() for i in ids}
        path = model.objects.all().workspace_path
        workspaces = set()
        for pk, workspace_id, *users in model._base_manager.filter(pk__in=ids).values_list(
            "pk", path, *fields
        ):
            workspaces.add(workspace_id)
            found[pk].update(uid for uid in users if uid)
        # With the workspace, the lookup is a range of the (workspace, object) index.
        creators = Event.objects.filter(
            workspace_id__in=workspaces,
            object_type=label,
            object_id__in=ids,
            verb=created_verb,
            actor_user__isnull=False,
        ).values_list("object_id", "actor_user_id")
        for oid, uid in creators:
            found.setdefault(oid, set()).add(uid)
        return found

    return implicit


def register_builtin_types() -> None:
    register(
        Commentable(
            label="backlog.item",
            noun="item",
            queryset=lambda: Item.objects.select_related("product__workspace"),
            url=lambda item: reverse(
                "backlog:item", args=[item.product.workspace.slug, item.product.key, item.number]
            ),
            key=lambda item: item.key,
            title=lambda item: item.title,
            implicit_watchers=_watchers(Item, "item.created", "owner_id"),
        )
    )
    register(
        Commentable(
            label="roadmaps.entry",
            noun="roadmap entry",
            queryset=lambda: Entry.objects.select_related("roadmap__workspace", "item"),
            url=lambda e: reverse(
                "roadmaps:roadmap-entry", args=[e.roadmap.workspace.slug, e.roadmap_id, e.pk]
            ),
            key=lambda e: e.item.key if e.item_id else "",
            title=lambda e: e.display_title,
            implicit_watchers=_watchers(Entry, "roadmap_entry.added", "item__owner_id"),
            product_id=lambda e: e.roadmap.product_id if hasattr(e.roadmap, "product_id") else None,
        )
    )
    register(
        Commentable(
            label="products.objective",
            noun="objective",
            queryset=lambda: Objective.objects.select_related("product__workspace"),
            url=lambda o: thread_url("products.objective", o, o.product.workspace.slug),
            key=lambda o: "",
            title=lambda o: o.title,
            implicit_watchers=_watchers(Objective, "objective.created", "owner_id"),
        )
    )
    register(
        Commentable(
            label="feedback.company",
            noun="customer",
            queryset=lambda: Company.objects.select_related("workspace"),
            url=lambda c: thread_url("feedback.company", c, c.workspace.slug),
            key=lambda c: "",
            title=lambda c: c.name,
            implicit_watchers=_watchers(Company, "company.created", "owner_id"),
            product_id=lambda c: None,
        )
    )
    register(
        Commentable(
            label="feedback.feedback",
            noun="feedback",
            queryset=lambda: Feedback.objects.select_related("product__workspace"),
            url=lambda f: (
                reverse("feedback:feedback-inbox", args=[f.product.workspace.slug, f.product.key])
                + f"?state=all&f={f.pk}"
            ),
            key=lambda f: "",
            title=lambda f: f.text[:120],
            implicit_watchers=_watchers(Feedback, "feedback.created", "created_by_id"),
        )
    )
