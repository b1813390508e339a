"""Receivers of other apps' signals that keep the backlog's own rows in step.

Every product has backlog settings and a RICE scoring model from the moment
it exists, so reading a backlog never writes. ``products/`` cannot import
``backlog/`` (dependencies run one way), so the backlog listens for the
product's creation: ``post_save`` in the transaction of the INSERT, whoever
creates the product (``products.services.create_product``, the demo seed,
test factories, a shell). Migration 0004 gave existing products theirs."""

from . import services


def create_backlog_of_new_product(sender, instance, created, raw=False, **kwargs):
    if created and not raw:  # fixtures (raw) carry their own backlog rows
        services.create_backlog(product=instance)
