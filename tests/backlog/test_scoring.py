"""Properties of the scoring frameworks (backlog.scoring).

Every framework, for any valid inputs: a finite score ≥ 0, monotone in the
inputs that should raise (or lower) it, None (not 0) when an input is
missing, and the SQL expression used by recomputes agrees with the Python
explanation shown on the item page.
"""

import math

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from backlog import scoring, services
from backlog.models import FieldKind, Item

FRAMEWORKS = ("rice", "ice", "wsjf", "value_effort")
# Inputs that must never lower the score when raised; divisors must never raise it.
RAISING = {
    "rice": ("reach", "impact", "confidence"),
    "ice": ("impact", "confidence", "ease"),
    "wsjf": ("business_value", "time_criticality", "risk_reduction"),
    "value_effort": ("value",),
}
LOWERING = {"rice": ("effort",), "ice": (), "wsjf": ("job_size",), "value_effort": ("effort",)}

# INPUTS leaves reach, effort and demand unbounded above; a realistic ceiling
# keeps the "finite" property about the formulas, not about float overflow
# (the overflow at the extremes is pinned by its own test below).
CEILING = {"reach": 1e9, "effort": 1e4, "demand": 1e9}
# The Item model refuses effort below 0.01 (MinValueValidator); use the same
# floor for every divisor.
DIVISOR_FLOOR = 0.01

FAST = settings(max_examples=60, deadline=None)
DB = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def bounds(name: str) -> tuple[float, float]:
    spec = scoring.INPUTS[name]
    low = DIVISOR_FLOOR if spec.exclusive_min else spec.min
    high = spec.max if spec.max is not None else CEILING[name]
    return low, high


def valid(name: str, *, places: int | None = None):
    low, high = bounds(name)
    values = st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
    if places is not None:
        # Numbers as people type them; also keeps PostgreSQL away from float underflow.
        values = values.map(lambda x: min(high, max(low, round(x, places))))
    return values


def framework_values(kind: str, *, places: int | None = None):
    return st.fixed_dictionaries(
        {n: valid(n, places=places) for n in scoring.FRAMEWORK_INPUTS[kind]}
    )


@st.composite
def criteria_raw(draw, *, sources=None, min_size=1, max_size=5):
    """Weighted-model criteria as stored in JSON (distinct sources)."""
    sources = sources or [*scoring.INPUTS, "cf:1", "cf:2"]
    picked = draw(
        st.lists(st.sampled_from(sources), min_size=min_size, max_size=max_size, unique=True)
    )
    raw = []
    for n, source in enumerate(picked):
        low = draw(st.integers(-100, 100)) / 4
        span = draw(st.floats(min_value=0.25, max_value=1000, allow_nan=False))
        raw.append(
            {
                "name": f"C{n}",
                "source": source,
                "weight": draw(st.floats(min_value=0.01, max_value=100, allow_nan=False)),
                "min": low,
                "max": low + span,
                "higher_is_better": draw(st.booleans()),
            }
        )
    return raw


def criterion_value(places: int | None = None):
    values = st.floats(min_value=-2000, max_value=2000, allow_nan=False, allow_infinity=False)
    return values.map(lambda x: round(x, places)) if places is not None else values


@st.composite
def weighted_case(draw):
    criteria = scoring.parse_criteria(draw(criteria_raw()))
    values = {c.source: draw(criterion_value()) for c in criteria}
    return criteria, values


# --- every framework: finite, ≥ 0, monotone ------------------------------------------------------


@pytest.mark.parametrize("kind", FRAMEWORKS)
def test_score_is_finite_and_not_negative(kind):
    @FAST
    @given(framework_values(kind))
    def check(values):
        explanation = scoring.explain(kind, [], values)
        assert explanation.score is not None
        assert math.isfinite(explanation.score)
        assert explanation.score >= 0
        assert explanation.missing == []
        assert explanation.worked.endswith(scoring._fmt(explanation.score))

    check()


def _raise_one(kind, name, data):
    values = data.draw(framework_values(kind))
    low, high = sorted([values[name], data.draw(valid(name))])
    return {**values, name: low}, {**values, name: high}


@pytest.mark.parametrize(
    ("kind", "name"), [(k, n) for k in FRAMEWORKS for n in RAISING[k]], ids=lambda x: x
)
def test_raising_a_value_input_never_lowers_the_score(kind, name):
    @FAST
    @given(st.data())
    def check(data):
        lower, higher = _raise_one(kind, name, data)
        assert scoring.explain(kind, [], higher).score >= scoring.explain(kind, [], lower).score

    check()


@pytest.mark.parametrize(
    ("kind", "name"), [(k, n) for k in FRAMEWORKS for n in LOWERING[k]], ids=lambda x: x
)
def test_raising_effort_or_job_size_never_raises_the_score(kind, name):
    @FAST
    @given(st.data())
    def check(data):
        lower, higher = _raise_one(kind, name, data)
        assert scoring.explain(kind, [], higher).score <= scoring.explain(kind, [], lower).score

    check()


@pytest.mark.parametrize("kind", FRAMEWORKS)
def test_a_missing_input_gives_no_score_and_is_listed(kind):
    needed = scoring.FRAMEWORK_INPUTS[kind]

    @FAST
    @given(framework_values(kind), st.sets(st.sampled_from(needed), min_size=1), st.booleans())
    def check(values, absent, drop_key):
        for name in absent:
            if drop_key:
                del values[name]  # an input never given
            else:
                values[name] = None  # an input cleared
        explanation = scoring.explain(kind, [], values)
        assert explanation.score is None  # not 0
        assert sorted(explanation.missing) == sorted(scoring.INPUTS[n].label for n in absent)

    check()


def test_rice_worked_example():
    explanation = scoring.explain(
        "rice", [], {"reach": 1000, "impact": 2, "confidence": 80, "effort": 4}
    )
    assert explanation.score == pytest.approx(400)
    assert explanation.worked == "1,000 × 2 × 80% ÷ 4 = 400"


def test_wsjf_contributions_add_up_to_one():
    values = {"business_value": 8, "time_criticality": 5, "risk_reduction": 3, "job_size": 2}
    explanation = scoring.explain("wsjf", [], values)
    assert explanation.score == 8
    assert sum(t["contribution"] for t in explanation.terms[:3]) == pytest.approx(1)


# --- weighted criteria ---------------------------------------------------------------------------


@FAST
@given(weighted_case())
def test_weighted_score_is_between_0_and_100(case):
    criteria, values = case
    explanation = scoring.explain("weighted", criteria, values)
    assert explanation.score is not None
    assert math.isfinite(explanation.score)
    # Σ(w·share)/Σw with every share in [0, 1]; allow the last-bit rounding of the sum.
    assert 0 <= explanation.score <= 100 * (1 + 1e-12)
    assert sum(t["points"] for t in explanation.terms) == pytest.approx(explanation.score)


@FAST
@given(st.data())
def test_weighted_raising_a_higher_is_better_criterion_never_lowers_the_score(data):
    criteria, values = data.draw(weighted_case())
    index = data.draw(st.integers(0, len(criteria) - 1))
    c = criteria[index]
    low, high = sorted([values[c.source], data.draw(criterion_value())])
    lower = scoring.explain("weighted", criteria, {**values, c.source: low}).score
    higher = scoring.explain("weighted", criteria, {**values, c.source: high}).score
    if c.higher_is_better:
        assert higher >= lower
    else:
        assert higher <= lower


@FAST
@given(st.data())
def test_weighted_missing_criterion_gives_no_score_and_is_listed(data):
    criteria, values = data.draw(weighted_case())
    typed = [c.source for c in criteria if c.source not in scoring.ZERO_WHEN_UNSET]
    assume(typed)
    absent = data.draw(st.sets(st.sampled_from(typed), min_size=1))
    for source in absent:
        values[source] = None
    explanation = scoring.explain("weighted", criteria, values)
    assert explanation.score is None
    assert explanation.missing == [c.name for c in criteria if c.source in absent]


def test_weighted_demand_unset_counts_as_zero_in_python_and_sql(product, pm):
    """A new item had no score under a demand-weighted model until feedback
    was linked ("needs 4 inputs"): demand is computed, so unset means 0."""
    from backlog import services
    from backlog.models import Item

    criteria = scoring.parse_criteria(
        [
            {"name": "Demand", "source": "demand", "weight": 4, "min": 0, "max": 100},
            {"name": "Value", "source": "value", "weight": 1, "min": 0, "max": 10},
        ]
    )
    explanation = scoring.explain("weighted", criteria, {"demand": None, "value": 5})
    assert explanation.score == pytest.approx(10.0) and explanation.missing == []
    item = services.create_item(pm, product=product, title="New", value=5)
    sql = (
        Item.objects.filter(pk=item.pk)
        .annotate(s=scoring.score_expression("weighted", criteria))
        .values_list("s", flat=True)
    )
    assert sql.get() == pytest.approx(10.0)


def test_weighted_worked_example():
    criteria = scoring.parse_criteria(
        [
            {"name": "Value", "source": "value", "weight": 3, "min": 0, "max": 10},
            {
                "name": "Effort",
                "source": "effort",
                "weight": 1,
                "min": 0,
                "max": 20,
                "higher_is_better": False,
            },
        ]
    )
    explanation = scoring.explain("weighted", criteria, {"value": 5, "effort": 5})
    # 100 × (3 × 0.5 + 1 × 0.75) ÷ 4
    assert explanation.score == pytest.approx(56.25)
    assert [t["points"] for t in explanation.terms] == pytest.approx([37.5, 18.75])


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(scoring.INPUTS))
def test_validate_input_accepts_the_boundaries(name):
    spec = scoring.INPUTS[name]
    scoring.validate_input(name, None)
    if not spec.exclusive_min:
        scoring.validate_input(name, spec.min)
    scoring.validate_input(name, spec.min + 0.5)
    if spec.max is not None:
        scoring.validate_input(name, spec.max)


@pytest.mark.parametrize("name", list(scoring.INPUTS))
def test_validate_input_rejects_out_of_range(name):
    spec = scoring.INPUTS[name]
    too_small = [spec.min - 0.001, spec.min - 1e6]
    if spec.exclusive_min:
        too_small.append(spec.min)
    too_big = [spec.max + 0.001, spec.max * 10 + 1] if spec.max is not None else []
    for value in too_small + too_big:
        with pytest.raises(ValidationError) as caught:
            scoring.validate_input(name, value)
        assert name in caught.value.message_dict, value


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_validate_input_rejects_nan_and_infinity(value):
    for name in scoring.INPUTS:
        with pytest.raises(ValidationError):
            scoring.validate_input(name, value)


def _criterion(**overrides):
    return {"name": "Value", "source": "value", "weight": 1, "min": 0, "max": 10, **overrides}


def test_parse_criteria_accepts_valid_criteria():
    parsed = scoring.parse_criteria(
        [
            _criterion(),
            _criterion(
                name="Revenue", source="cf:7", weight=2.5, min=-5, max=5, higher_is_better=False
            ),
        ],
        number_fields={7: "Revenue"},
    )
    assert [c.source for c in parsed] == ["value", "cf:7"]
    assert parsed[1].custom_field_id == 7
    assert parsed[1].higher_is_better is False


@pytest.mark.parametrize(
    "raw",
    [
        [],
        None,
        [_criterion(weight=0)],
        [_criterion(weight=-1)],
        [_criterion(max=0)],
        [_criterion(min=10, max=5)],
        [_criterion(source="nonsense")],
        [_criterion(source="")],
        [_criterion(source="cf:999")],
        [_criterion(name="  ")],
        [_criterion(weight="heavy")],
        [_criterion(weight=None)],
        [_criterion(), _criterion(weight=0)],
    ],
    ids=lambda raw: repr(raw)[:40],
)
def test_parse_criteria_rejects_bad_criteria(raw):
    with pytest.raises(ValidationError) as caught:
        scoring.parse_criteria(raw, number_fields={1: "Revenue"})
    assert "criteria" in caught.value.message_dict


@pytest.mark.parametrize(
    "raw",
    [
        _criterion(weight="nan"),
        _criterion(weight="inf"),
        _criterion(max="nan"),
        _criterion(min="-inf"),
    ],
    ids=["weight-nan", "weight-inf", "max-nan", "min-inf"],
)
def test_parse_criteria_rejects_non_finite_numbers(raw):
    with pytest.raises(ValidationError):
        scoring.parse_criteria([raw])


# --- never a division by zero --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("wsjf", {"business_value": 5, "time_criticality": 5, "risk_reduction": 5, "job_size": 0}),
        ("value_effort", {"value": 5, "effort": 0}),
        ("rice", {"reach": 10, "impact": 1, "confidence": 50, "effort": 0}),
    ],
    ids=["wsjf", "value_effort", "rice"],
)
def test_a_zero_divisor_gives_no_score_like_sql(kind, values):
    assert scoring.explain(kind, [], values).score is None


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        (
            "wsjf",
            {
                "business_value": 20,
                "time_criticality": 20,
                "risk_reduction": 20,
                "job_size": 5e-324,
            },
        ),
        ("rice", {"reach": 1e308, "impact": 10, "confidence": 100, "effort": 1}),
    ],
    ids=["wsjf-tiny-job-size", "rice-huge-reach"],
)
def test_extreme_inputs_are_rejected_or_scored_finitely(kind, values):
    try:
        for name, value in values.items():
            scoring.validate_input(name, value)
    except ValidationError:
        return  # refused up front: fine
    score = scoring.explain(kind, [], values).score
    assert score is not None and math.isfinite(score)


# --- SQL expression == Python explanation --------------------------------------------------------


def _maybe(strategy):
    return st.one_of(st.none(), strategy, strategy, strategy)


def _values_of(item: Item) -> dict:
    values = {name: getattr(item, name) for name in scoring.INPUTS}
    values.update({f"cf:{key}": value for key, value in item.custom.items()})
    return values


def _sql_score(item: Item, kind: str, criteria) -> float | None:
    expr = scoring.score_expression(kind, criteria)
    return Item.objects.filter(pk=item.pk).annotate(s=expr).values_list("s", flat=True).get()


def _assert_same(sql, python):
    if python is None:
        assert sql is None
    else:
        assert sql == pytest.approx(python, rel=1e-9, abs=1e-12)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", FRAMEWORKS)
def test_sql_expression_equals_python_explanation(kind, pm, product):
    needed = scoring.FRAMEWORK_INPUTS[kind]

    @DB
    @given(st.fixed_dictionaries({n: _maybe(valid(n, places=4)) for n in needed}))
    def check(inputs):
        item = services.create_item(pm, product=product, title="Probe", **inputs)
        item = Item.objects.get(pk=item.pk)
        python = scoring.explain(kind, [], _values_of(item)).score
        assert (python is None) == any(v is None for v in inputs.values())
        _assert_same(_sql_score(item, kind, []), python)

    check()


def _check_weighted_sql(pm, product, data, sources, number_fields, *, force_custom=False):
    raw = data.draw(criteria_raw(sources=sources))
    if force_custom and not any(r["source"].startswith("cf:") for r in raw):
        raw[0]["source"] = data.draw(st.sampled_from([s for s in sources if s.startswith("cf:")]))
    criteria = scoring.parse_criteria(raw, number_fields=number_fields)
    inputs, custom = {}, {}
    for c in criteria:
        if c.custom_field_id is not None:
            value = data.draw(_maybe(criterion_value(places=3)))
            if value is not None:
                custom[str(c.custom_field_id)] = value
        else:
            inputs[c.source] = data.draw(_maybe(valid(c.source, places=4)))
    item = services.create_item(pm, product=product, title="Probe", custom=custom, **inputs)
    item = Item.objects.get(pk=item.pk)
    python = scoring.explain("weighted", criteria, _values_of(item))
    assert (python.score is None) == bool(python.missing)
    _assert_same(_sql_score(item, "weighted", criteria), python.score)


@pytest.mark.django_db
def test_sql_expression_equals_python_for_weighted_criteria(pm, product):
    @DB
    @given(st.data())
    def check(data):
        _check_weighted_sql(pm, product, data, list(scoring.INPUTS), None)

    check()


def _number_fields(pm, product):
    fields = [
        services.create_custom_field(pm, product=product, name=name, kind=FieldKind.NUMBER)
        for name in ("Revenue", "Strategic fit")
    ]
    return {f.pk: f.name for f in fields}


@pytest.mark.django_db
def test_sql_expression_equals_python_for_weighted_criteria_with_custom_fields(pm, product):
    number_fields = _number_fields(pm, product)
    sources = [*scoring.INPUTS, *(f"cf:{pk}" for pk in number_fields)]

    @DB
    @given(st.data())
    def check(data):
        _check_weighted_sql(pm, product, data, sources, number_fields, force_custom=True)

    check()


@pytest.mark.django_db
def test_sql_expression_reads_custom_number_field(pm, product):
    field = services.create_custom_field(pm, product=product, name="Revenue", kind=FieldKind.NUMBER)
    criteria = scoring.parse_criteria(
        [{"name": "Revenue", "source": f"cf:{field.pk}", "weight": 1, "min": 0, "max": 200}],
        number_fields={field.pk: field.name},
    )
    with_value = services.create_item(pm, product=product, title="A", custom={field.pk: "50"})
    without = services.create_item(pm, product=product, title="B")
    assert _sql_score(without, "weighted", criteria) is None
    assert scoring.explain("weighted", criteria, _values_of(without)).missing == ["Revenue"]
    assert scoring.explain("weighted", criteria, _values_of(with_value)).score == pytest.approx(25)
    assert _sql_score(with_value, "weighted", criteria) == pytest.approx(25)


def test_sql_divisors_are_guarded_by_nullif():
    for kind in ("rice", "wsjf", "value_effort"):
        sql = str(scoring.score_expression(kind, []))
        assert "NULLIF" in sql.upper()


def test_compare_rankings_reports_who_moves_and_leaves_unscored_unranked():
    rows = [
        {"pk": 1, "score_a": 10.0, "score_b": 1.0},
        {"pk": 2, "score_a": 5.0, "score_b": 8.0},
        {"pk": 3, "score_a": None, "score_b": 4.0},
    ]
    ranked = scoring.compare_rankings(rows)
    assert [(r["pk"], r["rank_a"], r["rank_b"], r["delta"]) for r in ranked] == [
        (2, 2, 1, 1),
        (3, None, 2, None),
        (1, 1, 3, -2),
    ]
