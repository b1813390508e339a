import re

import pytest

from backlog import services as backlog_services
from feedback import services
from feedback.models import Feedback, Subscription, Vote
from tests.backlog.factories import make_item

PORTAL = "/portal/acme/PAY/"


@pytest.fixture
def idea(pm, items, portal):
    return services.publish_idea(
        pm, item=items["sepa"], public_title="Direct debit", public_description="Pay by SEPA."
    )


def _submit(client, **data):
    body = {"text": "Please add iDEAL", "email": "shopper@example.net", "name": "", "website": ""}
    return client.post(PORTAL, {**body, **data}, REMOTE_ADDR="203.0.113.7")


def test_portal_is_off_by_default_and_reading_it_writes_nothing(client, as_user, pm, product):
    from feedback.models import PortalSettings

    assert client.get(PORTAL).status_code == 404
    assert as_user(pm).get("/w/acme/p/PAY/portal/").status_code == 200
    assert not PortalSettings.objects.exists()


def test_portal_shows_public_ideas_grouped_by_status(client, idea, pm, items):
    services.publish_idea(pm, item=items["apple"], public_title="Apple Pay")
    backlog_services.update_item(
        pm, item=items["apple"], expected_version=None, fields={"status": "planned"}
    )

    html = client.get(PORTAL).content.decode()

    assert "Direct debit" in html and "Apple Pay" in html
    assert html.index("Planned") < html.index("Apple Pay") < html.index("Under consideration")
    assert "Dark mode" not in html  # not public
    assert "SEPA Direct Debit mandates" not in html  # the internal title stays internal


def test_submission_creates_portal_feedback_matched_to_a_person(client, portal, product):
    response = _submit(client)

    # Post/redirect/get: a refresh shows the page, it does not submit again.
    assert response.status_code == 302 and response["Location"].endswith("#submit-title")
    page = client.get(response["Location"]).content.decode()
    assert "Thank you! We read every suggestion." in page
    assert "Thank you!" not in client.get(response["Location"]).content.decode()  # once
    f = Feedback.objects.get()
    assert (f.source, f.person.email, f.product) == ("portal", "shopper@example.net", product)


def test_honeypot_creates_nothing(client, portal):
    response = _submit(client, website="http://spam.example")

    assert response.status_code == 302  # the same answer as a real submission
    assert not Feedback.objects.exists()


def test_flood_gets_429_and_creates_nothing_more(client, portal):
    limit = services.PORTAL_SUBMIT_LIMIT[0]
    for _ in range(limit):
        assert _submit(client).status_code == 302  # accepted: redirected to the page

    response = _submit(client, text="one too many")

    assert response.status_code == 429
    assert response["Retry-After"]
    assert Feedback.objects.count() == limit
    assert not Feedback.objects.filter(text="one too many").exists()


def test_invalid_submission_is_a_form_error(client, portal):
    response = _submit(client, email="not-an-email", text="Keep this text")

    assert response.status_code == 400
    assert "Keep this text" in response.content.decode()
    assert not Feedback.objects.exists()


def test_html_is_escaped_and_emails_are_never_shown(client, pm, idea, items, product):
    f = services.create_feedback(
        pm,
        product=product,
        text="<script>alert('x')</script> mail me at boss@globex.example",
        source="portal",
        email="boss@globex.example",
    )
    services.link_feedback(pm, feedback=f, item=items["sepa"])
    services.publish_idea(
        pm, item=items["sepa"], public_title="<b>Direct debit</b> ask cfo@globex.example"
    )

    html = client.get(PORTAL).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    assert "<b>Direct debit" not in html
    assert "@globex.example" not in html
    assert "[email hidden]" in html


def test_submitted_text_is_echoed_masked(client, portal):
    response = _submit(client, text="reach me: me@shop.example")
    html = client.get(response["Location"]).content.decode()
    assert "reach me:" in html and "me@shop.example" not in html


def test_anonymous_vote_counts_after_the_emailed_link(client, idea, mailoutbox, committed):
    with committed():
        response = client.post(
            f"{PORTAL}ideas/{idea.pk}/vote/", {"email": "Fan@Example.net"}, REMOTE_ADDR="1.2.3.4"
        )
    assert response.status_code == 302 and response["Location"].endswith(f"#idea-{idea.pk}")
    assert "Check your inbox" in client.get(response["Location"]).content.decode()
    vote = Vote.objects.get()
    assert vote.verified_at is None
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    link = re.search(r"/portal-vote/[^/\s]+/", body).group(0)
    assert "/portal-unsubscribe/" in body

    assert client.get(link).status_code == 200

    vote.refresh_from_db()
    assert vote.verified_at is not None


def test_a_vote_cannot_be_cast_twice(client, idea):
    for email in ("fan@example.net", "FAN@example.net"):
        client.post(f"{PORTAL}ideas/{idea.pk}/vote/", {"email": email})
    other = client.__class__()
    other.post(f"{PORTAL}ideas/{idea.pk}/vote/", {"email": "fan@example.net"})

    assert Vote.objects.count() == 1


def test_logged_in_account_vote_counts_at_once_and_once(as_user, viewer, idea):
    client = as_user(viewer)
    client.post(f"{PORTAL}ideas/{idea.pk}/vote/")
    client.post(f"{PORTAL}ideas/{idea.pk}/vote/")

    vote = Vote.objects.get()
    assert vote.user == viewer and vote.verified_at is not None


def test_bad_vote_link_is_400(client, idea):
    assert client.get("/portal-vote/not-a-token/").status_code == 400


# --- status emails ----------------------------------------------------------------------------


def _voters_and_requester(idea, pm, product, items):
    for email in ("a@example.net", "b@example.net"):
        vote = services.cast_vote(idea=idea, email=email, ip=email)
        services.confirm_vote(services.vote_token(vote))
    services.cast_vote(idea=idea, email="unverified@example.net", ip="x")
    f = services.create_feedback(pm, product=product, text="SEPA!", email="req@globex.example")
    services.link_feedback(pm, feedback=f, item=items["sepa"])


# Status emails come from a consumer of the event log, which reads only
# committed events: these tests commit for real.
@pytest.mark.django_db(transaction=True)
def test_declining_a_public_item_emails_voters_and_requesters_with_reason(
    pm, idea, product, items, mailoutbox, committed, client
):
    _voters_and_requester(idea, pm, product, items)
    mailoutbox.clear()

    with committed():
        backlog_services.update_item(
            pm,
            item=type(items["sepa"]).objects.get(pk=items["sepa"].pk),  # demand bumped it
            expected_version=None,
            fields={"status": "declined", "status_reason": "Our bank partner has no SEPA support."},
        )

    assert sorted(m.to[0] for m in mailoutbox) == [
        "a@example.net",
        "b@example.net",
        "req@globex.example",
    ]
    for message in mailoutbox:
        assert "Our bank partner has no SEPA support." in message.body
        assert "/portal-unsubscribe/" in message.body
    # The portal shows the reason too.
    assert "Our bank partner has no SEPA support." in client.get(PORTAL).content.decode()


def test_status_emails_go_one_task_per_address(pm, idea, product, items, mailoutbox, monkeypatch):
    """A retry (after a mail-server error) repeats one task: one address, so
    the emails already sent are never sent twice."""
    from feedback import tasks

    _voters_and_requester(idea, pm, product, items)
    mailoutbox.clear()
    queued = []
    monkeypatch.setattr(tasks.send_status_email, "delay", lambda *args: queued.append(args))
    assert tasks.send_status_emails(items["sepa"].pk, "planned") == 3
    assert sorted(email for _item, _news, email in queued) == [
        "a@example.net",
        "b@example.net",
        "req@globex.example",
    ]
    assert not mailoutbox
    # One of them, run (or re-run after a failure), emails that address only.
    assert tasks.send_status_email(items["sepa"].pk, "planned", "b@example.net") == 1
    assert [m.to for m in mailoutbox] == [["b@example.net"]]


# Status emails come from a consumer of the event log, which reads only
# committed events: these tests commit for real.
@pytest.mark.django_db(transaction=True)
def test_unsubscribed_addresses_get_no_more_emails(
    pm, idea, product, items, mailoutbox, committed, client
):
    _voters_and_requester(idea, pm, product, items)
    link = re.search(
        r"/portal-unsubscribe/[^/\s]+/",
        services.send_status_emails(items["sepa"].pk, "planned") and mailoutbox[0].body,
    ).group(0)
    unsubscribed = mailoutbox[0].to[0]
    assert client.get(link).status_code == 200  # a GET only asks
    assert not Subscription.objects.exists()
    assert client.post(link).status_code == 200
    mailoutbox.clear()

    with committed():
        backlog_services.update_item(
            pm,
            item=type(items["sepa"]).objects.get(pk=items["sepa"].pk),  # demand bumped it
            expected_version=None,
            fields={"status": "shipped"},
        )

    recipients = sorted(m.to[0] for m in mailoutbox)
    assert unsubscribed not in recipients
    assert len(recipients) == 2
    assert "has shipped" in mailoutbox[0].body


@pytest.mark.parametrize(
    ("old", "new", "news"),
    [
        ("idea", "planned", "planned"),
        ("candidate", "in_progress", "planned"),
        ("planned", "in_progress", None),
        ("in_progress", "shipped", "shipped"),
        ("idea", "declined", "declined"),
        ("idea", "candidate", None),
        ("shipped", "archived", None),
    ],
)
def test_status_news_mapping(old, new, news):
    assert services.status_news(old, new) == news


def test_private_items_send_no_email(pm, items, mailoutbox, committed, product):
    f = services.create_feedback(pm, product=product, text="x", email="req@globex.example")
    services.link_feedback(pm, feedback=f, item=items["dark"])
    with committed():
        backlog_services.update_item(
            pm, item=items["dark"], expected_version=None, fields={"status": "shipped"}
        )
    assert mailoutbox == []


def test_portal_query_count_does_not_grow_with_ideas(
    client, pm, product, items, portal, django_assert_max_num_queries
):
    from tests.backlog.factories import make_item

    def publish(n):
        for k in range(n):
            item = make_item(product, pm, title=f"Idea {k}")
            idea = services.publish_idea(pm, item=item, public_title=f"Public idea {k}")
            services.cast_vote(idea=idea, email=f"v{k}@example.net", ip=f"ip{k}")
            f = services.create_feedback(pm, product=product, text=f"want {k}", source="portal")
            services.link_feedback(pm, feedback=f, item=item)

    publish(3)
    client.get(PORTAL)
    with django_assert_max_num_queries(8) as few:
        client.get(PORTAL)
    publish(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "Public idea 9" in client.get(PORTAL).content.decode()


# --- abuse limits: per client address and per email -------------------------------


def _vote(client, idea, email, addr="198.51.100.7", **extra):
    return client.post(
        f"{PORTAL}ideas/{idea.pk}/vote/", {"email": email}, REMOTE_ADDR=addr, **extra
    )


def test_fifty_votes_with_fifty_emails_from_one_address_send_at_most_the_limit(
    client, idea, mailoutbox, committed
):
    limit = services.PORTAL_VOTE_LIMIT[0]
    with committed():
        statuses = [_vote(client, idea, f"victim{n}@example.net").status_code for n in range(50)]

    assert statuses[:limit] == [302] * limit  # accepted: redirected to the page
    assert set(statuses[limit:]) == {429}
    assert len(mailoutbox) == limit
    assert Vote.objects.count() == limit
    # Another address still votes.
    with committed():
        assert _vote(client, idea, "fan@example.net", addr="203.0.113.99").status_code == 302
    assert len(mailoutbox) == limit + 1


def test_votes_naming_one_email_from_many_addresses_are_limited_per_email(
    client, pm, product, portal, mailoutbox, committed
):
    limit = services.PORTAL_VOTE_EMAIL_LIMIT[0]
    ideas = [
        services.publish_idea(
            pm, item=make_item(product, pm, title=f"Idea {n}"), public_title=f"Idea {n}"
        )
        for n in range(limit + 2)
    ]
    with committed():
        statuses = [
            _vote(client, idea, "victim@example.net", addr=f"192.0.2.{n}").status_code
            for n, idea in enumerate(ideas)
        ]

    assert statuses[:limit] == [302] * limit  # accepted: redirected to the page
    assert set(statuses[limit:]) == {429}
    assert len(mailoutbox) == limit


def test_portal_feedback_is_limited_per_email_across_addresses(client, portal):
    limit = services.PORTAL_SUBMIT_EMAIL_LIMIT[0]
    for n in range(limit):
        assert _submit_from(client, f"192.0.2.{n}").status_code == 302

    response = _submit_from(client, "192.0.2.200", text="one too many")

    assert response.status_code == 429
    assert not Feedback.objects.filter(text="one too many").exists()


@pytest.mark.parametrize("kind", ["vote", "submit"])
def test_portal_limits_key_on_the_client_behind_a_trusted_proxy(client, idea, settings, kind):
    settings.TRUSTED_PROXY_COUNT = 1
    balancer = "10.0.0.2"
    limit = (services.PORTAL_VOTE_LIMIT if kind == "vote" else services.PORTAL_SUBMIT_LIMIT)[0]

    def send(n, forwarded):
        if kind == "vote":
            return _vote(
                client, idea, f"v{n}@example.net", addr=balancer, HTTP_X_FORWARDED_FOR=forwarded
            )
        return client.post(
            PORTAL,
            {"text": "Please", "email": f"s{n}@example.net", "name": "", "website": ""},
            REMOTE_ADDR=balancer,
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for n in range(limit):
        assert send(n, "198.51.100.1").status_code == 302
    assert send(limit, "198.51.100.2, 198.51.100.1").status_code == 429  # forged entry ignored
    assert send(limit + 1, "198.51.100.2").status_code == 302  # another client behind the balancer


def _submit_from(client, addr, **data):
    body = {"text": "Please add iDEAL", "email": "shopper@example.net", "name": "", "website": ""}
    return client.post(PORTAL, {**body, **data}, REMOTE_ADDR=addr)
