"""The demand formula (feedback/demand.py): examples and properties."""

from hypothesis import given
from hypothesis import strategies as st

from feedback import demand
from feedback.models import DEFAULT_SEGMENT_WEIGHTS

segments = st.sampled_from(list(DEFAULT_SEGMENT_WEIGHTS))
importances = st.sampled_from(list(demand.IMPORTANCE_WEIGHTS))
revenues = st.floats(min_value=0, max_value=1e10, allow_nan=False)
ages = st.floats(min_value=0, max_value=3650, allow_nan=False)
half_lives = st.integers(min_value=1, max_value=3650)


def signal(customer="c:1", revenue=0.0, segment="smb", importance="nice", age=0.0):
    return demand.Signal(customer, revenue, segment, importance, age)


def compute(signals, half_life=90):
    return demand.compute(signals, half_life_days=half_life, weights=DEFAULT_SEGMENT_WEIGHTS)


def test_examples():
    assert compute([signal()]) == 1.0
    # (1 + 999) × 2 (enterprise) × 3 (critical), received today
    assert compute([signal(revenue=999_000, segment="enterprise", importance="critical")]) == 6000
    # one half-life later: half
    assert compute([signal(revenue=1000, age=90)]) == 1.0
    # one customer counts once, with its strongest insight; two customers add up
    assert compute([signal(importance="nice"), signal(importance="critical")]) == 3.0
    assert compute([signal("c:1"), signal("c:2")]) == 2.0
    assert compute([]) == 0


signal_lists = st.lists(
    st.tuples(st.integers(1, 5), revenues, segments, importances, ages), max_size=8
)


def _signals(rows, *, bump_revenue=0.0, bump_age=0.0, at=None):
    out = []
    for n, (customer, revenue, segment, importance, age) in enumerate(rows):
        if at is None or at == n:
            revenue, age = revenue + bump_revenue, age + bump_age
        out.append(signal(f"c:{customer}", revenue, segment, importance, age))
    return out


@given(signal_lists, st.floats(min_value=0, max_value=1e9), half_lives, st.integers(0, 7))
def test_more_revenue_never_lowers_demand(rows, more, half_life, at):
    before = compute(_signals(rows), half_life)
    after = compute(_signals(rows, bump_revenue=more, at=at), half_life)
    assert after >= before


@given(signal_lists, st.floats(min_value=0, max_value=3650), half_lives, st.integers(0, 7))
def test_older_feedback_never_raises_demand(rows, older, half_life, at):
    before = compute(_signals(rows), half_life)
    after = compute(_signals(rows, bump_age=older, at=at), half_life)
    assert after <= before


@given(signal_lists, half_lives)
def test_demand_is_never_negative_and_more_customers_never_lower_it(rows, half_life):
    base = compute(_signals(rows), half_life)
    assert base >= 0
    assert compute([*_signals(rows), signal("c:new")], half_life) >= base
