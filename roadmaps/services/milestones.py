"""Milestones and releases on a roadmap, and dependencies between its
entries with the warning a dependency earns when the plan contradicts it."""

from django.core.exceptions import ValidationError
from django.db import transaction

from pmhub import activity
from pmhub.accounts.services import require_editor
from pmhub.versioning import delete_versioned, save_versioned

from ..dates import format_date
from ..models import HORIZON_ORDER, Dependency, Entry, Horizon, Layout, Milestone, Roadmap
from .changes import record_event, touch_roadmap
from .common import check_year


@transaction.atomic
def add_milestone(actor, *, roadmap: Roadmap, name: str, date, kind: str = "milestone"):
    require_editor(actor, roadmap.workspace)
    name = (name or "").strip()
    check_year(date, "date")
    milestone = Milestone(roadmap=roadmap, name=name, date=date, kind=kind)
    milestone.full_clean()
    milestone.save()
    record_event(actor, "milestone.created", milestone, roadmap)
    touch_roadmap(roadmap.pk)
    return milestone


@transaction.atomic
def update_milestone(actor, *, milestone: Milestone, expected_version: int | None, fields: dict):
    require_editor(actor, milestone.roadmap.workspace)
    unknown = set(fields) - {"name", "date", "kind"}
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    check_year(fields.get("date"), "date")
    before = activity.values_of(milestone, fields)
    milestone = save_versioned(milestone, expected_version=expected_version, fields=fields)
    changes = activity.diff(before, activity.values_of(milestone, fields))
    record_event(actor, "milestone.updated", milestone, milestone.roadmap, changes)
    touch_roadmap(milestone.roadmap_id)
    return milestone


@transaction.atomic
def delete_milestone(actor, *, milestone: Milestone, expected_version: int | None = None):
    require_editor(actor, milestone.roadmap.workspace)
    record_event(actor, "milestone.deleted", milestone, milestone.roadmap)
    delete_versioned(milestone, expected_version=expected_version)
    touch_roadmap(milestone.roadmap_id)


@transaction.atomic
def add_dependency(actor, *, blocker: Entry, blocked: Entry) -> Dependency:
    roadmap = blocker.roadmap
    require_editor(actor, roadmap.workspace)
    if blocked.roadmap_id != blocker.roadmap_id:
        raise ValidationError({"blocked": "Both entries must be on the same roadmap."})
    if blocked.pk == blocker.pk:
        raise ValidationError({"blocked": "An entry cannot block itself."})
    if Dependency.objects.filter(blocker=blocked, blocked=blocker).exists():
        raise ValidationError({"blocked": "The other entry already blocks this one."})
    dependency, created = Dependency.objects.get_or_create(
        roadmap=roadmap, blocker=blocker, blocked=blocked
    )
    if created:
        record_event(
            actor,
            "dependency.added",
            dependency,
            roadmap,
            {"blocker": [None, blocker.pk], "blocked": [None, blocked.pk]},
        )
    touch_roadmap(roadmap.pk)
    return dependency


@transaction.atomic
def remove_dependency(actor, *, dependency: Dependency) -> None:
    require_editor(actor, dependency.roadmap.workspace)
    record_event(actor, "dependency.removed", dependency, dependency.roadmap)
    dependency.delete()
    touch_roadmap(dependency.roadmap_id)


def dependency_warning(blocker, blocked, *, layout: str | None = None) -> str:
    """Why this dependency is a problem, or "" when the plan is consistent:
    the blocker ends after the entry it blocks starts (or, on Now / Next /
    Later, sits in a later horizon). ``blocker`` and ``blocked`` are entries
    or board cards (``reads.Card``); ``layout`` defaults to the blocker's
    roadmap's."""
    if blocker.end_date and blocked.start_date and blocker.end_date > blocked.start_date:
        return (
            f"“{blocker.display_title}” ends {format_date(blocker.end_date)}, after "
            f"“{blocked.display_title}” starts ({format_date(blocked.start_date)})."
        )
    if (layout or blocker.roadmap.layout) == Layout.NOW_NEXT_LATER and HORIZON_ORDER[
        blocker.horizon
    ] > HORIZON_ORDER[blocked.horizon]:
        return (
            f"“{blocker.display_title}” is planned for {Horizon(blocker.horizon).label}, "
            f"after “{blocked.display_title}” ({Horizon(blocked.horizon).label})."
        )
    return ""
