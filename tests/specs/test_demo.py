import io

from django.core.management import call_command

from specs.models import Spec, SpecState


def test_the_demo_has_an_approved_spec_and_one_with_changes_requested(db, settings):
    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off
    call_command("seed_demo", stdout=io.StringIO())
    states = dict(Spec.objects.values_list("item__title", "state"))
    assert states == {
        "One-click checkout": SpecState.APPROVED,
        "Smart retries for soft declines": SpecState.CHANGES_REQUESTED,
    }
    assert Spec.objects.get(item__title="Smart retries for soft declines").versions.count() == 2
