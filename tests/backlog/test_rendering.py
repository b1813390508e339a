"""The backlog row has one source of truth, templates/backlog/_row.html; the
fast writer of whole pages (backlog.rendering.RowWriter) must write the very
same bytes. Rows with every kind of field, as an editor (dragging or not,
after a conflict) and as a viewer, go through both."""

import itertools

import pytest

from backlog import services
from backlog.models import BacklogSettings, FieldKind, Item, ItemType, Status
from backlog.reads import ScoreExplainer, TableRow, table_rows
from backlog.rendering import RowWriter, render_row
from pmhub.accounts.models import Role
from tests.factories import MembershipFactory, ObjectiveFactory

from .factories import make_item

BASE = "/w/acme/p/PAY/backlog/"
RICE = {"reach": 1_234_567, "impact": 2, "confidence": 80, "effort": 0.5}
LONG = "A very long title that goes on and on, well past thirty characters"


@pytest.fixture
def fields(pm, product):
    """Custom fields of all four kinds."""
    make = services.create_custom_field
    return [
        make(pm, product=product, name="Segment", kind=FieldKind.TEXT),
        make(pm, product=product, name="ARR", kind=FieldKind.NUMBER),
        make(pm, product=product, name="Tier", kind=FieldKind.SELECT, options=["Gold", "<Tin>"]),
        make(pm, product=product, name="Due", kind=FieldKind.DATE),
    ]


@pytest.fixture
def backlog(pm, product, fields, workspace):
    """Every type and status, with and without tags, objectives, an owner, a
    parent, custom values and a score; HTML in every text a user writes."""
    segment, arr, tier, due = (str(f.pk) for f in fields)
    named = MembershipFactory(
        workspace=workspace,
        role=Role.EDITOR,
        user__username="obrien",
        user__first_name="Ann <b>",
        user__last_name="O'Brien & co",
    ).user
    goals = [
        ObjectiveFactory(product=product, title='Grow <conversion> & "retention"', position=1),
        ObjectiveFactory(product=product, title="Short", position=2),
    ]
    epic = make_item(product, pm, type=ItemType.EPIC, title=LONG + " <epic>", **RICE)
    statuses = itertools.cycle(Status.values)
    items = [epic]
    for n, kind in enumerate(ItemType.values * 2):
        status = next(statuses)
        fields_ = {
            "type": kind,
            "status": status,
            "status_reason": "Not now" if status in ("declined", "archived") else "",
            "title": f'<script>alert("{n}")</script> & Co’s “{kind}” é' if n % 3 == 0 else LONG,
        }
        if n % 2 == 0:
            fields_.update(RICE, value=7.25, tags=["a&b", "<x>", "ünï code"], objectives=goals)
        if n % 3 == 1:
            fields_.update(reach=10, owner=named, parent=epic, objectives=goals[1:])
        if n % 4 == 0:
            fields_["owner"] = pm
        if n % 2 == 1:
            fields_["custom"] = {
                segment: "SMB <&>",
                arr: 1200.5 if n % 4 == 1 else 3_000_000,
                tier: "<Tin>",
                due: "2026-02-28",
            }
        items.append(make_item(product, pm, **fields_))
    # Inputs complete but no score yet (a recompute has not run): neither a
    # score nor "needs inputs".
    Item.objects.filter(pk=items[1].pk).update(score=None)
    return items


def _rows(product):
    return [TableRow(values) for values in table_rows(product).order_by("rank")]


def _both(product, fields, *, explainer, can_edit, can_drag, conflict, qs):
    writer = RowWriter(
        base=BASE,
        qs=qs,
        can_edit=can_edit,
        can_drag=can_drag,
        custom_fields=fields,
        explainer=explainer,
    )
    for row in _rows(product):
        template = render_row(
            row,
            base=BASE,
            qs=qs,
            can_edit=can_edit,
            can_drag=can_drag,
            custom_fields=fields,
            explainer=explainer,
            conflict=conflict,
        )
        yield str(template), str(writer(row, conflict=conflict))


CASES = [
    pytest.param(True, True, False, id="editor-manual-rank"),
    pytest.param(True, False, False, id="editor-sorted"),
    pytest.param(True, True, True, id="editor-conflict"),
    pytest.param(False, True, False, id="viewer"),
    pytest.param(False, False, True, id="viewer-conflict"),
]


@pytest.mark.parametrize(("can_edit", "can_drag", "conflict"), CASES)
def test_the_fast_writer_writes_the_template_byte_for_byte(
    product, fields, backlog, can_edit, can_drag, conflict
):
    explainer = ScoreExplainer(product)
    qs = "q=a%26b+%3Cc%3E&sort=rank&status=idea&status=planned"

    pairs = list(
        _both(
            product,
            fields,
            explainer=explainer,
            can_edit=can_edit,
            can_drag=can_drag,
            conflict=conflict,
            qs=qs,
        )
    )

    assert len(pairs) == len(backlog)
    for template, fast in pairs:
        assert fast == template


def test_rows_agree_without_a_scoring_model_and_without_custom_fields(product, fields, backlog):
    BacklogSettings.objects.filter(product=product).update(active_model=None)
    explainer = ScoreExplainer(product)

    for template, fast in _both(
        product, [], explainer=explainer, can_edit=True, can_drag=True, conflict=False, qs=""
    ):
        assert fast == template


def test_the_fixture_has_every_kind_of_cell(product, fields, backlog):
    """The comparison above means something only if the rows hold all of this."""
    pairs = list(
        _both(
            product,
            fields,
            explainer=ScoreExplainer(product),
            can_edit=True,
            can_drag=True,
            conflict=True,
            qs="sort=rank",
        )
    )
    html = "".join(template for template, _ in pairs)

    for kind in ItemType.values:
        assert f"type-{kind}" in html
    for status in Status.values:
        assert f"item-status-{status}" in html
    for needle in [
        'class="score"',  # a score, with its explanation
        "needs Impact, Confidence, Effort",  # missing inputs, named
        '<td class="num"><span class="muted">—</span></td>',  # neither
        '<a class="tag" href="?tag=a%26b">#a&amp;b</a>',
        "&lt;script&gt;",
        "Ann &lt;b&gt; O&#x27;Brien &amp; co",
        '<div class="small muted">in PAY-1 ',
        "…",  # a truncated title
        '<td class="small">SMB &lt;&amp;&gt;</td>',
        '<td class="small">1,200.5</td>',
        '<td class="small">3,000,000</td>',
        '<td class="small">&lt;Tin&gt;</td>',
        '<td class="small">2026-02-28</td>',
        '<td class="small">—</td>',  # an empty custom value
        'title="Linked to no objective"',
        "has-conflict",
        'value="top"',
    ]:
        assert needle in html, needle
