import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pmhub.errors import VersionConflict
from products import services
from products.models import KeyResult, Objective, Product, Vision, VisionVersion


def test_create_product_makes_an_empty_vision(pm, workspace):
    product = services.create_product(pm, workspace=workspace, name="Payments", key="pay")
    assert product.key == "PAY"
    assert Vision.objects.get(product=product).is_empty


def test_product_key_is_unique_within_a_workspace(pm, workspace, product):
    with pytest.raises(ValidationError) as exc:
        services.create_product(pm, workspace=workspace, name="Other", key="PAY")
    assert "key" in exc.value.message_dict


def test_same_key_is_fine_in_another_workspace(product, stranger):
    other = stranger.memberships.get().workspace
    assert services.create_product(stranger, workspace=other, name="Pay too", key="PAY").pk


@pytest.mark.parametrize("key", ["P", "1PAY", "PAY-1", "TOOLONGKEY1", ""])
def test_bad_product_keys_are_refused(pm, workspace, key):
    with pytest.raises(ValidationError):
        services.create_product(pm, workspace=workspace, name="X", key=key)


def test_viewer_cannot_create_or_change(viewer, workspace, product):
    with pytest.raises(PermissionDenied):
        services.create_product(viewer, workspace=workspace, name="X", key="XX")
    with pytest.raises(PermissionDenied):
        services.update_product(viewer, product=product, expected_version=1, fields={"name": "Y"})
    assert Product.objects.get(pk=product.pk).name == "Payments"


def test_stranger_cannot_write_into_another_workspace(stranger, product):
    with pytest.raises(PermissionDenied):
        services.create_objective(stranger, product=product, title="Sneaky")
    assert not Objective.objects.filter(title="Sneaky").exists()


def test_update_bumps_version(teammate, product):
    updated = services.update_product(
        teammate, product=product, expected_version=1, fields={"name": "Payments 2"}
    )
    assert updated.version == 2
    assert Product.objects.get(pk=product.pk).version == 2


def test_stale_version_changes_nothing(pm, objective):
    services.update_objective(pm, objective=objective, expected_version=1, fields={"title": "A"})
    stale = Objective.objects.get(pk=objective.pk)
    with pytest.raises(VersionConflict) as exc:
        services.update_objective(pm, objective=stale, expected_version=1, fields={"title": "B"})
    assert exc.value.current.title == "A"
    fresh = Objective.objects.get(pk=objective.pk)
    assert (fresh.title, fresh.version) == ("A", 2)


def test_invalid_update_changes_nothing(pm, product):
    with pytest.raises(ValidationError):
        services.update_product(pm, product=product, expected_version=1, fields={"stage": "nope"})
    assert Product.objects.get(pk=product.pk).stage == "planning"


def test_fields_outside_the_allowed_set_are_refused(pm, product):
    with pytest.raises(ValidationError) as exc:
        services.update_product(pm, product=product, expected_version=1, fields={"key": "NEW"})
    assert "key" in exc.value.message_dict


def test_vision_edit_keeps_the_previous_version(pm, product):
    vision = product.vision
    services.update_vision(pm, vision=vision, expected_version=1, fields={"statement": "First"})
    services.update_vision(pm, vision=vision, expected_version=2, fields={"statement": "Second"})
    vision.refresh_from_db()
    assert (vision.statement, vision.version) == ("Second", 3)
    history = list(VisionVersion.objects.filter(vision=vision).values_list("version", "statement"))
    # v1 ("Be the best." from the factory) and v2 are kept; newest first.
    assert history == [(2, "First"), (1, "Be the best.")]


def test_unchanged_vision_save_records_nothing(pm, product):
    vision = product.vision
    services.update_vision(
        pm, vision=vision, expected_version=1, fields={"statement": "Be the best."}
    )
    assert Vision.objects.get(pk=vision.pk).version == 1
    assert not VisionVersion.objects.exists()


def test_stale_vision_edit_leaves_no_history(pm, teammate, product):
    vision = product.vision
    services.update_vision(pm, vision=vision, expected_version=1, fields={"statement": "Mine"})
    with pytest.raises(VersionConflict):
        services.update_vision(
            teammate,
            vision=Vision.objects.get(pk=vision.pk),
            expected_version=1,
            fields={"statement": "Theirs"},
        )
    assert VisionVersion.objects.count() == 1
    assert Vision.objects.get(pk=vision.pk).statement == "Mine"


def test_objective_owner_must_be_a_member(pm, product, stranger):
    with pytest.raises(ValidationError) as exc:
        services.create_objective(pm, product=product, title="X", owner=stranger)
    assert "owner" in exc.value.message_dict


def test_objectives_are_appended_in_order(pm, product):
    first = services.create_objective(pm, product=product, title="One")
    second = services.create_objective(pm, product=product, title="Two")
    assert second.position > first.position


def test_key_result_direction_is_inferred_and_checked(pm, objective):
    down = services.create_key_result(
        pm, objective=objective, name="Latency", start_value=900, target_value=200, unit="ms"
    )
    assert down.direction == "decrease"
    with pytest.raises(ValidationError) as exc:
        services.update_key_result(
            pm, key_result=down, expected_version=1, fields={"direction": "increase"}
        )
    assert "direction" in exc.value.message_dict


def test_key_result_target_must_differ_from_start(pm, objective):
    with pytest.raises(ValidationError):
        services.create_key_result(
            pm, objective=objective, name="Flat", start_value=5, target_value=5
        )
    assert not KeyResult.objects.filter(name="Flat").exists()


@pytest.mark.parametrize(
    ("start", "target", "current", "expected"),
    [
        (0, 100, 25, 0.25),
        (100, 0, 25, 0.75),
        (0, 10, 15, 1.0),
        (0, 10, -5, 0.0),
        (0, 10, None, None),
    ],
)
def test_key_result_progress(start, target, current, expected):
    kr = KeyResult(start_value=start, target_value=target, current_value=current)
    assert kr.progress == expected


def test_delete_with_stale_version_is_refused(pm, competitor):
    services.update_competitor(pm, competitor=competitor, expected_version=1, fields={"notes": "x"})
    with pytest.raises(VersionConflict):
        services.delete_competitor(pm, competitor=competitor, expected_version=1)
    services.delete_competitor(pm, competitor=competitor, expected_version=2)
    assert not type(competitor).objects.filter(pk=competitor.pk).exists()


def test_deleting_an_objective_deletes_its_key_results(pm, key_result):
    services.delete_objective(pm, objective=key_result.objective)
    assert not KeyResult.objects.filter(pk=key_result.pk).exists()
