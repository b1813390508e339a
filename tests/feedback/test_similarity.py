"""Similar-item suggestions: the obviously matching item comes first, with
PostgreSQL full-text search and with the Python fallback (SQLite)."""

import pytest

from feedback import similarity
from tests.backlog.factories import make_item
from tests.conftest import is_postgres, require

CASES = [
    ("We need SEPA direct debit for our German subscribers, cards are rare there.", "sepa"),
    ("Our iPhone customers keep asking for Apple Pay at checkout.", "apple"),
    ("Do you integrate with Xero? Our bookkeeper exports payouts by hand.", "xero"),
    ("Please add a dark theme to the dashboard, our team works at night.", "dark"),
    ("Too many cards are declined; could you retry the soft declines automatically?", "retry"),
    ("Support needs to find a payment by the last four digits of the card.", "search"),
]


@pytest.fixture
def distractors(product, pm, items):
    for title in (
        "Google Pay on the hosted checkout",
        "Export payouts to QuickBooks",
        "Payout report matched to orders",
        "Team roles in the merchant dashboard",
        "Fraud rules editor",
    ):
        make_item(product, pm, title=title)
    return items


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_the_matching_item_comes_first_on_this_database(product, distractors, text, expected):
    found = similarity.similar_items(text, product.pk)

    assert found, "no suggestion"
    assert found[0] == distractors[expected]
    assert len(found) <= 5


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_python_fallback_finds_the_matching_item(product, distractors, text, expected):
    found = similarity._similar_items_python(text, product.pk, 5)

    assert found[0] == distractors[expected]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_postgres_full_text_search_finds_the_matching_item(product, distractors, text, expected):
    require(is_postgres(), "the full-text search test needs PostgreSQL (DATABASE_URL)")

    found = similarity._similar_items_pg(text, product.pk, 5)

    assert found[0] == distractors[expected]
    assert [i.similarity for i in found] == sorted((i.similarity for i in found), reverse=True)


def test_at_most_five_suggestions_and_none_for_noise(product, distractors):
    assert (
        len(similarity.similar_items("payments payouts checkout dashboard card", product.pk)) <= 5
    )
    assert similarity.similar_items("the and of", product.pk) == []


def test_items_of_other_products_are_never_suggested(product, pm, workspace, items):
    from tests.factories import ProductFactory

    other = ProductFactory(workspace=workspace, key="OTH")
    theirs = make_item(other, pm, title="SEPA Direct Debit mandates")

    found = similarity.similar_items("SEPA direct debit please", product.pk)

    assert theirs not in found
    assert found[0] == items["sepa"]


def test_likely_duplicates():
    class F:
        def __init__(self, text):
            self.text = text

    same = F("Please add iDEAL payments for Dutch shoppers")
    other = F("Dark mode for the dashboard")
    found = similarity.likely_duplicates(
        "Add iDEAL payment for our Dutch shoppers please", [same, other]
    )

    assert found == [same]


def test_postgres_search_expression_matches_the_gin_index(product, distractors):
    """The search's ``@@`` condition is the indexed expression, so PostgreSQL
    finds candidates through feedback_item_search (migration 0002)."""
    require(is_postgres(), "the index test needs PostgreSQL (DATABASE_URL)")
    from django.db import connection

    vector = similarity.ITEM_VECTOR_SQL.format(title="title", description="description")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            f"EXPLAIN SELECT id FROM backlog_item WHERE {vector} @@ "
            "to_tsquery('english'::regconfig, %s)",
            ["sepa | debit"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "feedback_item_search" in plan
