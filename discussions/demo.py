"""Demo discussions (``seed_demo``): a debate on a score, a question from
sales answered by the PM, and shorter threads on a dozen Acme Pay items, a
roadmap entry and a customer, written through the services like any comment.
``alex`` mentions ``demo`` and comments on what ``demo`` created, so ``demo``
starts with unread notifications (the event-log consumer writes them once the
seed commits)."""

import datetime as dt

from django.utils import timezone

from backlog.models import Item
from feedback.models import Company
from pmhub.activity.models import ConsumerCursor, Event
from products.models import Product
from roadmaps.models import Entry

from . import services
from .models import Comment

# (item position in rank order, [(author, text, reply_to_index or None, [(reactor, emoji)])])
THREADS = [
    (
        0,
        [
            (
                "alex",
                "The RICE **reach** of this one looks high to me: only EU merchants on the new "
                "checkout get it, that's ~30% of volume. @demo can we revisit before planning?",
                None,
                [("viewer", "👀")],
            ),
            (
                "demo",
                "Fair point. Reach came from all checkout sessions last quarter; restricted to "
                "EU merchants it drops from 8k to about 2.5k, and it falls below the refund "
                "export. I'll lower it and let the ranking speak.",
                0,
                [("alex", "👍")],
            ),
            (
                "alex",
                "Impact should stay at 2 though: the merchants who asked are our largest "
                "(see the Globex and Initech feedback).",
                0,
                [("demo", "👍")],
            ),
        ],
    ),
    (
        1,
        [
            (
                "viewer",
                "Question from sales: a prospect (Globex) asks whether this ships before their "
                "Q2 renewal. Can I promise March?",
                None,
                [],
            ),
            (
                "demo",
                "Not a promise, please: it is in **Next**, not Now. Send them the shared "
                "roadmap link: it says exactly what we commit to, and they'll see it move.",
                0,
                [("viewer", "❤️")],
            ),
        ],
    ),
    (
        2,
        [("alex", "Spike done: the provider's sandbox supports idempotency keys. @demo", None, [])],
    ),
    (3, [("alex", "Design review on Thursday; mocks are linked in the description.", None, [])]),
    (4, [("demo", "Parking this until the Q3 objectives are agreed.", None, [("alex", "👍")])]),
    (
        5,
        [
            (
                "alex",
                "Support tickets mention this twice a week; bumping confidence to 80%.",
                None,
                [],
            )
        ],
    ),
    (6, [("viewer", "Is this the same as the CSV export finance asked for?", None, [])]),
    (7, [("demo", "Split into two items: API first, UI later.", None, [("alex", "🎉")])]),
    (8, [("alex", "Legal signed off on the data retention wording.", None, [("demo", "🚀")])]),
    (9, [("alex", "@demo the effort estimate doubled after the spike (3 → 6 weeks).", None, [])]),
    (10, [("demo", "Shipped to 10% of merchants; watching the conversion metric.", None, [])]),
    (11, [("alex", "Two enterprise customers asked for this in the last call.", None, [])]),
]


def seed(*, workspace, users) -> bool:
    product = Product.objects.filter(workspace=workspace, key="PAY").first()
    if product is None or Comment.objects.filter(workspace=workspace).exists():
        return False
    items = list(Item.objects.filter(product=product).order_by("rank")[:12])
    if not items:
        return False
    _skip_seeded_history()
    for position, comments in THREADS:
        if position < len(items):
            _thread(workspace, "backlog.item", items[position].pk, comments, users)
    entry = Entry.objects.filter(roadmap__workspace=workspace).order_by("id").first()
    if entry is not None:
        _thread(
            workspace,
            "roadmaps.entry",
            entry.pk,
            [("alex", "Marketing wants this in the launch post; is the date firm?", None, [])],
            users,
        )
    company = Company.objects.filter(workspace=workspace).order_by("id").first()
    if company is not None:
        _thread(
            workspace,
            "feedback.company",
            company.pk,
            [("demo", "Renewal in May: keep their top three requests visible.", None, [])],
            users,
        )
    _spread(workspace)
    return True


def _skip_seeded_history() -> None:
    """The demo's own history (hundreds of items created, moved, shipped by
    the seed a moment ago) is not news: notifications start with the demo
    discussions, as they start with the upgrade on a real site (migration
    0002)."""
    last = Event.objects.order_by("-id").first()
    if last is not None:
        ConsumerCursor.objects.update_or_create(
            name="notifications", defaults={"last_txid": last.txid or 0, "last_id": last.id}
        )


def _thread(workspace, label, object_id, comments, users) -> None:
    posted = []
    for author, text, reply_to, reactions in comments:
        comment = services.post_comment(
            users[author],
            workspace=workspace,
            object_type=label,
            object_id=object_id,
            body=text,
            parent_id=posted[reply_to].pk if reply_to is not None else None,
        )
        posted.append(comment)
        for who, emoji in reactions:
            services.add_reaction(users[who], comment=comment, emoji=emoji)


def _spread(workspace) -> None:
    """Comments over the last three days, in the order they were written."""
    now = timezone.now()
    rows = list(Comment.objects.filter(workspace=workspace).order_by("id"))
    for n, comment in enumerate(rows):
        when = now - dt.timedelta(hours=72) + dt.timedelta(hours=70 * n / max(len(rows), 1))
        Comment.objects.filter(pk=comment.pk).update(created_at=when, updated_at=when)
