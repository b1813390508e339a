"""The customer-demand formula (pure Python; services feed it rows).

For one backlog item::

    demand = Σ over customers c  max over c's insights i of
             (1 + revenue_c / 1000) × segment_weight(c) × importance(i) × 0.5 ^ (age_i / half_life)

- a customer is a company (or, without one, the person; or the anonymous
  piece of feedback itself): several insights from one customer count once,
  with the strongest;
- ``revenue_c`` is the company's annual revenue (0 if unknown), so every
  customer counts at least 1 and each 1 000 of revenue adds 1;
- ``segment_weight`` comes from the product's portal settings (SMB 1,
  mid-market 1.5, enterprise 2 by default);
- ``importance`` is 1 (nice to have), 2 (important) or 3 (critical);
- ``age_i`` is the days since the feedback was received, ``half_life`` the
  product's half-life in days: demand halves every half-life.

More revenue never lowers demand, and older feedback never raises it
(tests/feedback/test_demand.py checks both with hypothesis)."""

from dataclasses import dataclass

IMPORTANCE_WEIGHTS = {"nice": 1.0, "important": 2.0, "critical": 3.0}
FORMULA = (
    "demand = Σ per customer of the strongest insight: "
    "(1 + annual revenue ÷ 1000) × segment weight × importance (1 / 2 / 3) "
    "× 0.5^(age in days ÷ half-life)"
)


@dataclass(frozen=True)
class Signal:
    customer: str  # "c:<company id>", "p:<person id>" or "f:<feedback id>"
    revenue: float  # annual revenue, 0 when unknown
    segment: str
    importance: str
    age_days: float


def customer_key(feedback_id, person_id, company_id) -> str:
    """Who counts as one customer in demand: the company, else the person,
    else the anonymous piece of feedback itself."""
    if company_id:
        return f"c:{company_id}"
    return f"p:{person_id}" if person_id else f"f:{feedback_id}"


def contribution(s: Signal, *, half_life_days: float, weights: dict[str, float]) -> float:
    revenue = max(0.0, float(s.revenue or 0))
    age = max(0.0, float(s.age_days))
    return (
        (1.0 + revenue / 1000.0)
        * float(weights.get(s.segment, 1.0))
        * IMPORTANCE_WEIGHTS.get(s.importance, 1.0)
        * 0.5 ** (age / float(half_life_days))
    )


def compute(signals, *, half_life_days: float, weights: dict[str, float]) -> float:
    """Demand of one item from its insights' signals, rounded to 0.01."""
    best: dict[str, float] = {}
    for s in signals:
        value = contribution(s, half_life_days=half_life_days, weights=weights)
        if value > best.get(s.customer, 0.0):
            best[s.customer] = value
    return round(sum(best.values()), 2)
