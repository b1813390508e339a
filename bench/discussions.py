"""Discussions suite of `make bench`: an item's discussion panel with 200
comments (20 of them replies) and 50 reactions, rendered by the application
(``GET /w/<slug>/discuss/backlog.item/<id>/`` as htmx asks for it: the
panel alone, through the full middleware, the session and the membership
check) against a minimal template fed the same comments from two
``.values()`` queries (``/__bench__/minimal-comments/``): ≤ 1.5×."""

from .core import interleaved, p50

COMMENTS, REPLIES, REACTIONS = 200, 20, 50

MINIMAL_SOURCE = """<ol>{% for c in comments %}<li id="comment-{{ c.id }}">
<strong>{{ c.author__username }}</strong><time>{{ c.created_at|date:"M j, H:i" }}</time>
{{ c.body_html|safe }}
{% for r in c.reactions %}<button>{{ r.0 }} {{ r.1 }}</button>{% endfor %}</li>{% endfor %}</ol>"""
_minimal = []


def minimal_template():
    from django.template import engines

    if not _minimal:
        _minimal.append(engines["django"].from_string(MINIMAL_SOURCE))
    return _minimal[0]


def minimal_comments_view(request):
    """Baseline: the same comments and reaction counts through a minimal template."""
    from django.http import HttpResponse

    from discussions.models import Comment, Reaction

    item_id = int(request.GET["item"])
    comments = list(
        Comment.objects.filter(object_type="backlog.item", object_id=item_id)
        .order_by("id")
        .values("id", "author__username", "created_at", "body_html")
    )
    counts: dict[int, dict[str, int]] = {}
    for comment_id, emoji in Reaction.objects.filter(
        comment__object_type="backlog.item", comment__object_id=item_id
    ).values_list("comment_id", "emoji"):
        per = counts.setdefault(comment_id, {})
        per[emoji] = per.get(emoji, 0) + 1
    for c in comments:
        c["reactions"] = list(counts.get(c["id"], {}).items())
    return HttpResponse(minimal_template().render({"comments": comments}))


def _seed(workspace, user, item) -> None:
    from discussions.models import Comment, Reaction

    Comment.objects.filter(object_type="backlog.item", object_id=item.pk).delete()
    tops = Comment.objects.bulk_create(
        [
            Comment(
                workspace=workspace,
                object_type="backlog.item",
                object_id=item.pk,
                author=user,
                body=f"Comment {i} with **Markdown** and a [link](https://example.com/{i})",
                body_html=(
                    f'<p>Comment {i} with <strong>Markdown</strong> and a <a href="https://'
                    f'example.com/{i}" rel="noopener noreferrer nofollow">link</a></p>'
                ),
            )
            for i in range(COMMENTS - REPLIES)
        ]
    )
    Comment.objects.bulk_create(
        [
            Comment(
                workspace=workspace,
                object_type="backlog.item",
                object_id=item.pk,
                parent=tops[i],
                author=user,
                body=f"Reply {i}",
                body_html=f"<p>Reply {i}</p>",
            )
            for i in range(REPLIES)
        ]
    )
    emoji = ["👍", "🎉", "🚀", "👀", "❤️"]
    Reaction.objects.bulk_create(
        [Reaction(comment=tops[i], user=user, emoji=emoji[i % 5]) for i in range(REACTIONS)]
    )


def measure(report, data, args) -> None:
    from django.test import Client

    from backlog.models import Item

    user, product, workspace = data["user"], data["product"], data["workspace"]
    item = Item.objects.filter(product=product).order_by("rank").first()
    _seed(workspace, user, item)
    client = Client()
    client.force_login(user)
    panel_url = f"/w/{workspace.slug}/discuss/backlog.item/{item.pk}/"

    def ours():
        response = client.get(panel_url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and b"Reply 19" in response.content

    def baseline():
        response = client.get("/__bench__/minimal-comments/", {"item": item.pk})
        assert response.status_code == 200 and b"Reply 19" in response.content

    print(f"==> discussions: panel of {COMMENTS} comments and {REACTIONS} reactions")
    times = interleaved({"ours": ours, "baseline": baseline}, reps=args.reps, warmup=3)
    report.ratio(
        f"discussions: item panel, {COMMENTS} comments and {REACTIONS} reactions (HTML)",
        p50(times["ours"]),
        p50(times["baseline"]),
        1.5,
        baseline_name="a minimal template fed the same comments",
    )
