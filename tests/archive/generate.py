"""Objects of the kinds the demo data does not make, for the round-trip test."""

import datetime

from backlog.models import Item, SavedView
from feedback.models import DemandQueue, Subscription
from metrics.models import DirtyDay, Metric
from pmhub.webhooks.models import WebhookEndpoint
from products.models import Product, Vision, VisionVersion
from roadmaps.models import Lane, Roadmap

from .conftest import owner_of


def add_every_kind_of_object(workspace):
    owner = owner_of(workspace)
    product = Product.objects.filter(workspace=workspace).order_by("pk").first()
    vision, _ = Vision.objects.get_or_create(product=product)
    VisionVersion.objects.create(vision=vision, version=99, statement="Old words", edited_by=owner)
    metric = Metric.objects.filter(product__workspace=workspace).order_by("pk").first()
    DirtyDay.objects.create(metric=metric, day=datetime.date(2026, 1, 2))
    SavedView.objects.create(product=product, name="Mine", query="status=new", created_by=owner)
    roadmap = Roadmap.objects.filter(workspace=workspace).order_by("pk").first()
    Lane.objects.create(roadmap=roadmap, name="Platform lane", position=7)
    item = Item.objects.filter(product=product).order_by("pk").first()
    DemandQueue.objects.get_or_create(item=item)
    Subscription.objects.create(product=product, email="gone@example.com")
    WebhookEndpoint.objects.create(
        workspace=workspace, url="https://hooks.example.com/pmhub", secret="s", created_by=owner
    )
    # A child whose parent comes later in the table: loaded with a second pass.
    child = Item.objects.filter(product=product).order_by("pk")[1]
    parent = Item.objects.filter(product=product).order_by("-pk").first()
    Item.objects.filter(pk=child.pk).update(parent=parent)
