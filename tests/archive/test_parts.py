"""The registry of parts covers every table of a workspace, in a safe order."""

from django.apps import apps

from archive.parts import NOT_ARCHIVED, USER_MODEL, WORKSPACE_MODEL, registered


def test_every_model_of_a_workspace_is_a_part_or_left_out_with_a_reason():
    parts = {p.model._meta.label_lower for p in registered()}
    skip_apps = {"admin", "auth", "contenttypes", "sessions", "axes"}
    unaccounted = [
        m._meta.label_lower
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label not in skip_apps
        and m._meta.label_lower not in parts | set(NOT_ARCHIVED)
        and m._meta.label_lower not in (USER_MODEL, WORKSPACE_MODEL)
        and not m._meta.label_lower.startswith("accounts.user_")
    ]
    assert unaccounted == []


def test_parts_refer_only_to_parts_before_them():
    seen = {USER_MODEL}
    for part in registered():
        label = part.model._meta.label_lower
        for column, target in part.references().items():
            assert target in seen | {label}, f"{part.name}.{column} refers to a later part"
        seen.add(label)


def test_every_part_has_a_scope_that_resolves():
    from pmhub.accounts.models import Workspace

    workspace = Workspace(pk=1)
    for part in registered():
        str(part.queryset(workspace).query)  # a bad lookup raises here
