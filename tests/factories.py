import factory
from django.utils import timezone

from pmhub.accounts.models import Membership, Role, User, Workspace
from products.models import Competitor, KeyResult, Objective, Persona, Product, Vision


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"ws-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.EDITOR


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    key = factory.Sequence(lambda n: f"P{n}")
    vision = factory.RelatedFactory("tests.factories.VisionFactory", factory_related_name="product")


class VisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vision

    product = factory.SubFactory(ProductFactory, vision=None)
    statement = "Be the best."


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Objective {n}")
    period = "2027 Q1"


class KeyResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KeyResult

    objective = factory.SubFactory(ObjectiveFactory)
    name = factory.Sequence(lambda n: f"Key result {n}")
    start_value = 0
    target_value = 100
    current_value = 25


class CompetitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Competitor

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Competitor {n}")


class PersonaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Persona

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Persona {n}")


def now():
    return timezone.now()
