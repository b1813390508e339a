import datetime as dt

import pytest
from django.utils import timezone

from backlog.models import Item
from feedback import reads, services
from feedback.models import Feedback, Insight, State
from pmhub.api.pagination import encode_cursor
from tests.factories import ProductFactory

INBOX = "/w/acme/p/PAY/feedback/"
HX = {"HTTP_HX_REQUEST": "true"}


def _many(product, pm, n, **kwargs):
    return [
        services.create_feedback(pm, product=product, text=f"Feedback {k} about SEPA", **kwargs)
        for k in range(n)
    ]


# --- permissions ----------------------------------------------------------------------------

READ_URLS = [
    INBOX,
    INBOX + "?state=all&q=sepa",
    INBOX + "export/",
    "/w/acme/p/PAY/customers/",
    "/w/acme/p/PAY/portal/",
]


@pytest.mark.parametrize("url", READ_URLS)
def test_stranger_gets_404(as_user, stranger, product, url):
    assert as_user(stranger).get(url).status_code == 404


@pytest.mark.parametrize("url", READ_URLS)
def test_viewer_reads(as_user, viewer, product, feedback, url):
    assert as_user(viewer).get(url).status_code == 200


def test_viewer_sees_no_triage_controls_and_gets_403_on_writes(as_user, viewer, feedback, items):
    client = as_user(viewer)
    html = client.get(INBOX).content.decode()
    assert "fb-link-form" not in html
    assert "Add to inbox" not in html

    assert client.post(INBOX + "new/", {"text": "x", "source": "email"}).status_code == 403
    response = client.post(f"{INBOX}{feedback.pk}/link/", {"item": items["sepa"].pk})
    assert response.status_code == 403
    assert client.post(f"{INBOX}{feedback.pk}/state/", {"state": "archived"}).status_code == 403
    assert not Insight.objects.exists()
    assert Feedback.objects.get().state == State.NEW


def test_feedback_of_another_workspace_is_404(as_user, pm, stranger, items):
    other = ProductFactory(workspace=stranger.memberships.get().workspace, key="OTH")
    theirs = services.create_feedback(stranger, product=other, text="secret")
    response = as_user(pm).post(f"{INBOX}{theirs.pk}/link/", {"item": items["sepa"].pk})
    assert response.status_code == 404


# --- inbox --------------------------------------------------------------------------------


def test_inbox_lists_new_feedback_with_suggestions(as_user, pm, feedback, items):
    html = as_user(pm).get(INBOX).content.decode()

    assert "We need SEPA direct debit" in html
    assert "SEPA Direct Debit mandates" in html  # the top suggestion
    for key in ("j", "k", "l", "a", "c", "/", "?"):
        assert f"<kbd>{key}</kbd>" in html


def test_inbox_escapes_html_in_feedback(as_user, pm, product):
    services.create_feedback(pm, product=product, text="<script>alert(1)</script><b>bold</b>")

    html = as_user(pm).get(INBOX).content.decode()

    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_inbox_query_count_does_not_grow_with_rows(
    as_user, pm, product, items, django_assert_max_num_queries
):
    client = as_user(pm)
    _many(product, pm, 3, email="a@globex.example")
    client.get(INBOX)
    with django_assert_max_num_queries(16) as small:
        client.get(INBOX)
    _many(product, pm, 30, email="b@initech.example")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(INBOX).status_code == 200


def test_older_feedback_links_page_through_every_row_once(as_user, pm, product, monkeypatch):
    """The inbox pages on (received_at, id) with the shared cursor codec;
    rows that share a received_at are neither repeated nor skipped."""
    monkeypatch.setattr(reads, "INBOX_ROWS", 4)
    same_time = timezone.now() - dt.timedelta(hours=1)
    made = _many(product, pm, 6, received_at=same_time) + _many(product, pm, 5)
    client = as_user(pm)
    seen, url, pages = [], INBOX + "?state=all", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen += [f.pk for f in response.context["rows"]]
        after = response.context["next_before"]
        url = f"{INBOX}?state=all&before={after}" if after else None
        pages += 1
    assert pages == 3
    assert seen == [f.pk for f in sorted(made, key=lambda f: (f.received_at, f.pk), reverse=True)]


@pytest.mark.parametrize("cursor", ["12", "garbage", "W10:1a2b3c"])
def test_a_damaged_older_feedback_link_is_a_400(as_user, pm, feedback, cursor):
    response = as_user(pm).get(f"{INBOX}?before={cursor}")
    assert response.status_code == 400


def test_a_cursor_of_another_list_is_a_400(as_user, pm, feedback):
    foreign = encode_cursor("backlog:rank", [1.5, feedback.pk])
    assert as_user(pm).get(f"{INBOX}?before={foreign}").status_code == 400


def test_htmx_detail_returns_only_the_partial(as_user, pm, feedback, items):
    response = as_user(pm).get(f"{INBOX}?f={feedback.pk}&partial=detail", **HX)

    html = response.content.decode()
    assert 'id="fb-detail"' in html
    assert "<html" not in html
    assert "fb-rows" not in html


def test_link_from_the_inbox_creates_insight_and_moves_on(as_user, pm, product, items):
    older = services.create_feedback(pm, product=product, text="Apple Pay please")
    newer = services.create_feedback(pm, product=product, text="SEPA for Germany please")
    assert newer.received_at >= older.received_at

    response = as_user(pm).post(
        f"{INBOX}{newer.pk}/link/",
        {
            "item": items["sepa"].pk,
            "importance": "critical",
            "start": "0",
            "end": "4",
            "qs": "state=new",
        },
        **HX,
    )

    assert response.status_code == 200
    insight = Insight.objects.get()
    assert (insight.item, insight.snippet, insight.importance) == (
        items["sepa"],
        "SEPA",
        "critical",
    )
    html = response.content.decode()
    assert f'data-fb-selected="{older.pk}"' in html  # the next one is selected
    assert "Linked to PAY-1" in html


def test_create_item_from_the_inbox(as_user, pm, feedback):
    response = as_user(pm).post(
        f"{INBOX}{feedback.pk}/link/",
        {"action": "create", "title": "SEPA for Germany", "importance": "important"},
    )

    assert response.status_code == 302
    item = Item.objects.get(title="SEPA for Germany")
    assert Insight.objects.get().item == item


def test_create_item_without_title_shows_the_error_and_keeps_feedback(as_user, pm, feedback):
    response = as_user(pm).post(
        f"{INBOX}{feedback.pk}/link/", {"action": "create", "title": ""}, **HX
    )

    assert response.status_code == 200
    assert not Item.objects.exists()
    assert Feedback.objects.get().state == State.NEW


def test_archive_from_the_inbox(as_user, pm, feedback):
    response = as_user(pm).post(f"{INBOX}{feedback.pk}/state/", {"state": "archived"})

    assert response.status_code == 302
    assert Feedback.objects.get().state == State.ARCHIVED


def test_an_archive_in_the_inbox_offers_undo_back_to_the_previous_state(as_user, pm, feedback):
    services.set_feedback_state(pm, feedback=feedback, state=State.TRIAGED)
    client = as_user(pm)
    response = client.post(
        f"{INBOX}{feedback.pk}/state/",
        {"state": "archived", "qs": "state=all"},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Feedback marked archived." in html
    assert 'id="fb-undo"' in html and "data-fb-undo" in html
    assert f'action="{INBOX}{feedback.pk}/state/"' in html
    assert 'name="state" value="triaged"' in html  # back to where it was, not to "new"
    assert Feedback.objects.get().state == State.ARCHIVED

    undone = client.post(
        f"{INBOX}{feedback.pk}/state/",
        {"state": "triaged", "undo": "1", "qs": "state=all"},
        headers={"HX-Request": "true"},
    )
    html = undone.content.decode()
    assert "Archive undone." in html
    assert f'data-fb-selected="{feedback.pk}"' in html  # the same feedback, still in view
    assert "data-fb-undo" not in html
    assert Feedback.objects.get().state == State.TRIAGED


def test_other_state_changes_offer_no_undo(as_user, pm, feedback):
    services.set_feedback_state(pm, feedback=feedback, state=State.ARCHIVED)
    response = as_user(pm).post(
        f"{INBOX}{feedback.pk}/state/", {"state": "new"}, headers={"HX-Request": "true"}
    )

    assert "data-fb-undo" not in response.content.decode()
    assert Feedback.objects.get().state == State.NEW


def test_quick_add(as_user, pm, product):
    response = as_user(pm).post(
        INBOX + "new/",
        {"text": "Need iDEAL", "source": "sales_call", "email": "x@shop.example", "tags": "eu, nl"},
    )

    assert response.status_code == 302
    f = Feedback.objects.get()
    assert (f.source, f.tags, f.person.email, f.company.domain) == (
        "sales_call",
        ["eu", "nl"],
        "x@shop.example",
        "shop.example",
    )


def test_quick_add_with_bad_input_shows_errors_and_keeps_the_text(as_user, pm, product):
    response = as_user(pm).post(INBOX + "new/", {"text": "Keep me", "source": "pigeon"})

    assert response.status_code == 400
    assert "Keep me" in response.content.decode()
    assert not Feedback.objects.exists()


def test_export_neutralises_formulas(as_user, pm, product):
    services.create_feedback(pm, product=product, text='=HYPERLINK("http://evil","x")')

    body = b"".join(as_user(pm).get(INBOX + "export/?state=all").streaming_content).decode()

    assert "'=HYPERLINK" in body
    assert "\n=HYPERLINK" not in body and ",=HYPERLINK" not in body


def test_export_neutralises_look_alike_formula_starters(as_user, pm, product):
    services.create_feedback(pm, product=product, text='\uff1dHYPERLINK("http://evil","x")')

    body = b"".join(as_user(pm).get(INBOX + "export/?state=all").streaming_content).decode()

    assert "'\uff1dHYPERLINK" in body


# --- item panel -----------------------------------------------------------------------------


def test_item_page_shows_insights_customers_and_revenue(
    as_user, pm, workspace, product, items, committed, django_assert_max_num_queries
):
    for n, revenue in enumerate([100_000, 250_000, 250_000]):
        company = services.create_company(
            pm,
            workspace=workspace,
            name=f"Shop {n}",
            domain=f"s{n}.example",
            segment="enterprise",
            annual_revenue=revenue,
        )
        f = services.create_feedback(
            pm, product=product, text=f"SEPA please <i>{n}</i>", company=company
        )
        with committed():
            services.link_feedback(pm, feedback=f, item=items["sepa"])
    client = as_user(pm)

    html = client.get(f"/w/acme/p/PAY/backlog/items/{items['sepa'].number}/").content.decode()

    assert "Customer demand" in html
    assert "Shop 2" in html and "Enterprise" in html
    assert "600,000" in html  # total revenue
    assert "&lt;i&gt;" in html
    assert ">3</span>" in html  # customers asking
    # More insights do not add queries.
    url = f"/w/acme/p/PAY/backlog/items/{items['sepa'].number}/"
    client.get(url)
    with django_assert_max_num_queries(40) as before:
        client.get(url)
    for n in range(5):
        f = services.create_feedback(pm, product=product, text="more", email=f"p{n}@x{n}.example")
        services.link_feedback(pm, feedback=f, item=items["sepa"])
    with django_assert_max_num_queries(len(before.captured_queries)):
        client.get(url)


def test_publish_item_on_the_portal_from_its_page(as_user, pm, items):
    url = f"/w/acme/p/PAY/items/{items['sepa'].number}/publish/"
    response = as_user(pm).post(url, {"public_title": "Direct debit", "public_description": ""})

    assert response.status_code == 302
    assert items["sepa"].public_idea.public_title == "Direct debit"


def test_portal_settings_save_and_conflict(as_user, pm, product):
    client = as_user(pm)
    data = {
        "version": 1,
        "enabled": "on",
        "title": "Ideas",
        "intro": "",
        "half_life_days": 30,
        "weight_smb": 1,
        "weight_mid_market": 1.5,
        "weight_enterprise": 3,
        "weight_other": 1,
    }
    reads.portal_settings(product)
    assert client.post("/w/acme/p/PAY/portal/", data).status_code == 302
    row = reads.portal_settings(product)
    assert (row.enabled, row.half_life_days, row.weights()["enterprise"]) == (True, 30, 3.0)

    stale = client.post("/w/acme/p/PAY/portal/", {**data, "half_life_days": 7})

    assert stale.status_code == 409
    assert reads.portal_settings(product).half_life_days == 30


def test_customers_page_lists_companies(
    as_user, pm, workspace, product, django_assert_max_num_queries
):
    for n in range(4):
        services.create_company(pm, workspace=workspace, name=f"Co {n}", annual_revenue=n * 1000)
    client = as_user(pm)
    client.get("/w/acme/p/PAY/customers/")
    with django_assert_max_num_queries(10):
        html = client.get("/w/acme/p/PAY/customers/").content.decode()
    assert "Co 3" in html and "3,000" in html


def test_company_edit_conflict_keeps_the_newer_version(as_user, pm, workspace, product):
    company = services.create_company(pm, workspace=workspace, name="Globex")
    services.update_company(pm, company=company, expected_version=1, fields={"plan": "Scale"})

    response = as_user(pm).post(
        f"/w/acme/p/PAY/customers/{company.pk}/",
        {"version": 1, "name": "Globex", "segment": "smb", "plan": "Old", "domain": ""},
    )

    assert response.status_code == 409
    company.refresh_from_db()
    assert company.plan == "Scale"


def test_item_search_for_the_link_picker(as_user, pm, feedback, items):
    response = as_user(pm).get(f"{INBOX}{feedback.pk}/items/", {"q": "xero"}, **HX)

    html = response.content.decode()
    assert 'id="item-results"' in html
    assert "Export payouts to Xero" in html
    assert "Dark mode" not in html
    assert "<html" not in html


def test_item_search_by_key(as_user, pm, feedback, items):
    html = as_user(pm).get(f"{INBOX}{feedback.pk}/items/", {"q": "pay-2"}, **HX).content.decode()
    assert "Apple Pay on the hosted checkout" in html


def test_company_and_portal_settings_pages_keep_their_query_counts(
    as_user, pm, workspace, product, items, django_assert_max_num_queries
):
    company = services.create_company(
        pm, workspace=workspace, name="Globex", domain="globex.example"
    )
    client = as_user(pm)

    def grow(n, start):
        for k in range(start, start + n):
            services.create_feedback(
                pm, product=product, text=f"t{k}", email=f"p{k}@globex.example"
            )
            services.publish_idea(pm, item=list(items.values())[k % 6], public_title=f"I{k}")

    urls = [f"/w/acme/p/PAY/customers/{company.pk}/", "/w/acme/p/PAY/portal/"]
    grow(3, 0)
    counts = {}
    for url in urls:
        client.get(url)
        # 15 before the discussion panel (its threads, watch state and form add a few, constant)
        with django_assert_max_num_queries(18) as ctx:
            assert client.get(url).status_code == 200
        counts[url] = len(ctx.captured_queries)
    grow(10, 3)
    for url in urls:
        with django_assert_max_num_queries(counts[url]):
            client.get(url)


def test_edit_feedback_and_a_stale_edit_conflicts(as_user, pm, feedback):
    client = as_user(pm)
    url = f"{INBOX}{feedback.pk}/edit/"

    response = client.post(
        url, {"version": 1, "text": "Fixed typo", "source": "support", "tags": "eu, sepa"}, **HX
    )

    assert response.status_code == 200
    f = Feedback.objects.get()
    assert (f.text, f.source, f.tags, f.version) == ("Fixed typo", "support", ["eu", "sepa"], 2)
    stale = client.post(url, {"version": 1, "text": "Lost", "source": "email", "tags": ""}, **HX)
    assert "Someone else changed this feedback" in stale.content.decode()
    assert Feedback.objects.get().text == "Fixed typo"


def test_viewer_cannot_edit_feedback(as_user, viewer, feedback):
    response = as_user(viewer).post(f"{INBOX}{feedback.pk}/edit/", {"version": 1, "text": "x"})
    assert response.status_code == 403
    assert Feedback.objects.get().text == feedback.text


def test_link_to_a_malformed_item_id_is_a_message_not_a_crash(as_user, pm, feedback):
    response = as_user(pm).post(
        f"{INBOX}{feedback.pk}/link/", {"item": "PAY-1", "qs": "state=new"}, **HX
    )

    assert response.status_code == 200
    assert "Choose an item to link." in response.content.decode()
    assert not Insight.objects.exists()


def test_likely_duplicates_name_who_said_them(as_user, pm, product):
    """Identical sentences were listed without the customer's name, so the
    PM could not tell them apart."""
    text = "Please support SEPA direct debit for our monthly invoices."
    services.create_feedback(
        pm, product=product, text=text, email="ann@shop.example", name="Ann", company_name="Shop"
    )
    services.create_feedback(pm, product=product, text=text, email="bob@corp.example", name="Bob")
    latest = Feedback.objects.order_by("-id").first()
    html = as_user(pm).get(f"{INBOX}?state=all&f={latest.pk}").content.decode()
    dups = html[html.index("Likely duplicate of:") :]
    assert "Ann (Shop)" in dups[: dups.index("</ul>")]
