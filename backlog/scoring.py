"""Scoring frameworks: one definition used three ways.

- ``explain(model, values)`` computes an item's score in Python together with
  the formula, the item's own numbers and each term's contribution (the item
  page shows this, so every score explains itself);
- ``score_expression(model)`` builds the same formula as a database
  expression, so a whole backlog is rescored by one SQL statement per batch;
- ``INPUTS`` holds each input's label, range and help, used for validation.

A score is ``None`` (not zero) whenever an input it needs is missing.
"""

import functools
import math
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Case, F, FloatField, Func, TextField, Value, When
from django.db.models.functions import Cast, Coalesce, NullIf
from django.db.models.lookups import GreaterThan, LessThan


@dataclass(frozen=True)
class Input:
    name: str
    label: str
    min: float
    max: float | None
    help: str
    exclusive_min: bool = False


INPUTS: dict[str, Input] = {
    i.name: i
    for i in [
        Input("reach", "Reach", 0, 1e9, "People or events affected per quarter"),
        Input("impact", "Impact", 0, 10, "RICE: 0.25 minimal … 3 massive; ICE: 1–10"),
        Input("confidence", "Confidence", 0, 100, "How sure you are, in percent"),
        Input("ease", "Ease", 1, 10, "ICE: 10 = trivial to do"),
        Input("value", "Value", 0, 10, "Value to customers and the business, 0–10"),
        Input("effort", "Effort", 0.01, 10_000, "Person-weeks, at least 0.01"),
        Input("business_value", "Business value", 1, 20, "WSJF: relative, 1–20"),
        Input("time_criticality", "Time criticality", 1, 20, "WSJF: how value decays with delay"),
        Input(
            "risk_reduction",
            "Risk reduction",
            1,
            20,
            "WSJF: risk reduction / opportunity enablement",
        ),
        Input("job_size", "Job size", 0.01, 20, "WSJF: relative size, at least 0.01"),
        Input("demand", "Customer demand", 0, 1e12, "Revenue-weighted demand from feedback"),
    ]
}

# Which inputs each framework needs, in the order the formula shows them.
FRAMEWORK_INPUTS = {
    "rice": ("reach", "impact", "confidence", "effort"),
    "ice": ("impact", "confidence", "ease"),
    "wsjf": ("business_value", "time_criticality", "risk_reduction", "job_size"),
    "value_effort": ("value", "effort"),
}
FORMULAS = {
    "rice": "Reach × Impact × Confidence% ÷ Effort",
    "ice": "Impact × Confidence/10 × Ease",
    "wsjf": "(Business value + Time criticality + Risk reduction) ÷ Job size",
    "value_effort": "Value ÷ Effort",
    "weighted": "100 × Σ(weight × normalized criterion) ÷ Σ weights",
}


def validate_input(name: str, value) -> None:
    """Raise ValidationError({name: ...}) when a scoring input is out of range."""
    if value is None:
        return
    spec = INPUTS[name]
    if not math.isfinite(value):
        raise ValidationError({name: f"{spec.label} must be a finite number."})
    if spec.exclusive_min and value <= spec.min:
        raise ValidationError({name: f"{spec.label} must be greater than {spec.min:g}."})
    if value < spec.min or (spec.max is not None and value > spec.max):
        upper = f" and {spec.max:g}" if spec.max is not None else ""
        where = f"between {spec.min:g}{upper}" if spec.max is not None else f"at least {spec.min:g}"
        raise ValidationError({name: f"{spec.label} must be {where}."})


# --- criteria of weighted models ---------------------------------------------------


_CUSTOM_SOURCE = re.compile(r"cf:([0-9]{1,18})", re.ASCII)


@dataclass(frozen=True)
class Criterion:
    name: str
    source: str  # an INPUTS name or "cf:<custom field id>"
    weight: float
    min: float
    max: float
    higher_is_better: bool = True

    @property
    def custom_field_id(self) -> int | None:
        """The id in a ``cf:<id>`` source; None for an input name or for a
        ``cf:`` source that is not a number (which validation refuses)."""
        match = _CUSTOM_SOURCE.fullmatch(self.source)
        return int(match[1]) if match else None


def parse_criteria(raw: list, *, number_fields: dict[int, str] | None = None) -> list[Criterion]:
    """Validate a weighted model's criteria (from JSON); ValidationError on bad input."""
    if not isinstance(raw, list) or not raw:
        raise ValidationError({"criteria": "A weighted model needs at least one criterion."})
    criteria, errors = [], []
    for n, entry in enumerate(raw, start=1):
        try:
            c = Criterion(
                name=str(entry.get("name") or "").strip(),
                source=str(entry.get("source") or ""),
                weight=float(entry.get("weight")),
                min=float(entry.get("min", 0)),
                max=float(entry.get("max", 10)),
                higher_is_better=bool(entry.get("higher_is_better", True)),
            )
        except (TypeError, ValueError, AttributeError):
            errors.append(f"Criterion {n}: weight, min and max must be numbers.")
            continue
        if not all(math.isfinite(x) for x in (c.weight, c.min, c.max)):
            errors.append(f"Criterion {n} ({c.name}): weight, min and max must be finite numbers.")
            continue
        if not c.name:
            errors.append(f"Criterion {n}: give it a name.")
        if c.weight <= 0:
            errors.append(f"Criterion {n} ({c.name}): the weight must be above 0.")
        if c.max <= c.min:
            errors.append(f"Criterion {n} ({c.name}): max must be above min.")
        if "\x00" in c.name:
            errors.append(f"Criterion {n}: the name cannot hold a null character.")
        if c.custom_field_id is not None:
            if number_fields is not None and c.custom_field_id not in number_fields:
                errors.append(f"Criterion {n} ({c.name}): not a number field of this product.")
        elif c.source.startswith("cf:"):
            errors.append(f"Criterion {n} ({c.name}): {c.source!r} is not a custom field id.")
        elif c.source not in INPUTS:
            errors.append(f"Criterion {n} ({c.name}): unknown input {c.source!r}.")
        criteria.append(c)
    if errors:
        raise ValidationError({"criteria": errors})
    return criteria


# --- explanations (Python) --------------------------------------------------------------


@dataclass
class Explanation:
    score: float | None
    formula: str
    worked: str = ""  # the formula with the item's own numbers
    terms: list[dict] = field(default_factory=list)  # label, value, contribution (share 0..1)
    missing: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=4096)
def _fmt(x: float) -> str:
    # Cached: a backlog repeats the same few input values row after row. Equal
    # numbers (1, 1.0, -0.0 and 0.0) format alike, so sharing entries is safe.
    if not math.isfinite(x):
        return str(x)
    return f"{x:,.2f}".rstrip("0").rstrip(".") if x != int(x) else f"{int(x):,}"


# What each input of a multiplicative model does to the score: the factor it applies.
EFFECTS = {
    "rice": {"reach": "×", "impact": "×", "confidence": "× %", "effort": "÷"},
    "ice": {"impact": "×", "confidence": "× /10", "ease": "×"},
    "wsjf": {"job_size": "÷"},
    "value_effort": {"value": "×", "effort": "÷"},
}
# A zero divisor counts as missing, exactly as NULLIF(…, 0) makes it NULL in SQL.
_DIVISORS = frozenset(("effort", "job_size"))
# Per framework: (name, label, effect operator or None, its divisor for the shown factor).
_TERMS = {
    kind: tuple(
        (
            n,
            INPUTS[n].label,
            EFFECTS[kind].get(n),
            100 if EFFECTS[kind].get(n) == "× %" else 10 if EFFECTS[kind].get(n) == "× /10" else 1,
        )
        for n in needed
    )
    for kind, needed in FRAMEWORK_INPUTS.items()
}


def explain(
    kind: str, criteria: list[Criterion], values: dict, *, reach_from_demand: bool = False
) -> Explanation:
    """Score ``values`` (input name or "cf:<id>" → number or None) with a model.
    ``reach_from_demand`` (RICE): an item without Reach uses its demand."""
    formula = FORMULAS[kind]
    if kind == "rice" and reach_from_demand and values.get("reach") is None:
        values = {**values, "reach": values.get("demand")}
        formula = formula.replace("Reach", "Reach (customer demand)", 1)
    if kind == "weighted":
        return _explain_weighted(criteria, values, formula)
    spec = _TERMS[kind]
    get = values.get
    terms, raw, missing = [], [], []
    for n, label, _, _ in spec:
        x = get(n)
        terms.append({"label": label, "value": x})
        raw.append(x)
        if x is None or (x == 0 and n in _DIVISORS):
            missing.append(label)
    if missing:
        return Explanation(None, formula, terms=terms, missing=missing)
    nums = [float(x) for x in raw]
    for t, (_, _, op, scale), x in zip(terms, spec, nums, strict=True):
        if op is not None:
            t["effect"] = f"{op[0]} {_fmt(x / scale if scale != 1 else x)}"
    if kind == "rice":
        reach, impact, confidence, effort = nums
        score = reach * impact * confidence / 100 / effort
        worked = f"{_fmt(reach)} × {_fmt(impact)} × {_fmt(confidence)}% ÷ {_fmt(effort)}"
    elif kind == "ice":
        impact, confidence, ease = nums
        score = impact * confidence / 10 * ease
        worked = f"{_fmt(impact)} × {_fmt(confidence / 10)} × {_fmt(ease)}"
    elif kind == "wsjf":
        business_value, time_criticality, risk_reduction, job_size = nums
        total = business_value + time_criticality + risk_reduction
        score = total / job_size
        worked = (
            f"({_fmt(business_value)} + {_fmt(time_criticality)} + "
            f"{_fmt(risk_reduction)}) ÷ {_fmt(job_size)}"
        )
        for t in terms[:3]:
            t["contribution"] = t["value"] / total if total else 0
    else:  # value_effort
        value, effort = nums
        score = value / effort
        worked = f"{_fmt(value)} ÷ {_fmt(effort)}"
    return Explanation(score, formula, f"{worked} = {_fmt(score)}", terms)


def normalize(c: Criterion, x: float) -> float:
    share = (x - c.min) / (c.max - c.min)
    share = max(0.0, min(1.0, share))
    return share if c.higher_is_better else 1.0 - share


def _explain_weighted(criteria, values, formula) -> Explanation:
    total_weight = sum(c.weight for c in criteria)
    terms, missing, score = [], [], 0.0
    for c in criteria:
        x = values.get(c.source)
        term = {
            "label": c.name,
            "value": x,
            "weight": c.weight,
            "range": f"{_fmt(c.min)}–{_fmt(c.max)}",
            "higher_is_better": c.higher_is_better,
        }
        if x is None and c.source in ZERO_WHEN_UNSET:
            x = term["value"] = 0.0  # no feedback linked yet: nobody asked
        if x is None:
            missing.append(c.name)
        else:
            points = 100 * c.weight * normalize(c, float(x)) / total_weight
            term["points"] = points
            score += points
        terms.append(term)
    if missing:
        return Explanation(None, formula, terms=terms, missing=missing)
    for t in terms:
        t["contribution"] = t["points"] / score if score else 0
    worked = " + ".join(_fmt(t["points"]) for t in terms)
    return Explanation(score, formula, f"{worked} = {_fmt(score)}", terms)


# --- database expressions -----------------------------------------------------------------


class CustomValue(Func):
    """The value of one custom field from ``Item.custom`` as SQL text.

    Custom values are keyed by the field's id ("12"); Django's own key
    transforms read digit-only keys as array indexes, so this builds the
    object-key path explicitly for each database."""

    output_field = TextField()

    def __init__(self, key: str, **extra):
        self.key = str(key)
        super().__init__(F("custom"), **extra)

    def as_sql(self, compiler, connection, **extra_context):
        lhs, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"({lhs} ->> %s)", [*params, self.key]
        return f"JSON_EXTRACT({lhs}, %s)", [*params, f'$."{self.key}"']


def custom_number(key):
    return Cast(CustomValue(key), FloatField())


def custom_text(key):
    return Cast(CustomValue(key), TextField())


# Inputs that are computed rather than typed: unset means zero, not unknown.
# Customer demand is a sum over linked feedback, so an item nobody asked for
# yet has demand 0 and a weighted model still scores it (it used to need
# feedback linked before it had a score at all). RICE's "reach from demand"
# keeps its fallback rule: an item without reach or demand has no reach.
ZERO_WHEN_UNSET = frozenset({"demand"})


def _source(source: str):
    if source.startswith("cf:"):
        return custom_number(source[3:])
    if source in ZERO_WHEN_UNSET:
        return Coalesce(F(source), _num(0.0))
    return F(source)


def _num(x: float):
    return Value(float(x), output_field=FloatField())


def score_expression(kind: str, criteria: list[Criterion], *, reach_from_demand: bool = False):
    """The model's formula as one SQL expression; NULL when an input is missing.
    Divisors pass through NULLIF(…, 0): a zero can never divide."""
    if kind == "rice":
        reach = Coalesce(F("reach"), F("demand")) if reach_from_demand else F("reach")
        return reach * F("impact") * F("confidence") / _num(100.0) / NullIf(F("effort"), _num(0))
    if kind == "ice":
        return F("impact") * F("confidence") / _num(10.0) * F("ease")
    if kind == "wsjf":
        return (F("business_value") + F("time_criticality") + F("risk_reduction")) / NullIf(
            F("job_size"), _num(0)
        )
    if kind == "value_effort":
        return F("value") / NullIf(F("effort"), _num(0))
    total_weight = sum(c.weight for c in criteria)
    expr = None
    for c in criteria:
        share = (_source(c.source) - _num(c.min)) / _num(c.max - c.min)
        # CASE keeps NULL as NULL on every database (GREATEST ignores NULLs on PostgreSQL).
        clamped = Case(
            When(LessThan(share, _num(0.0)), then=_num(0.0)),
            When(GreaterThan(share, _num(1.0)), then=_num(1.0)),
            default=share,
            output_field=FloatField(),
        )
        if not c.higher_is_better:
            clamped = _num(1.0) - clamped
        term = clamped * _num(100 * c.weight / total_weight)
        expr = term if expr is None else expr + term
    return expr


def compare_rankings(rows: list[dict]) -> list[dict]:
    """Rank rows (dicts with ``pk``, ``score_a``, ``score_b``) by each score,
    highest first, unscored rows unranked; add ``rank_a``, ``rank_b`` and
    ``delta`` (places moved up from A to B). Sorted by B's ranking."""

    def ranked(field):
        order = sorted(
            (r for r in rows if r[field] is not None), key=lambda r: (-r[field], r["pk"])
        )
        return {r["pk"]: n for n, r in enumerate(order, start=1)}

    rank_a, rank_b = ranked("score_a"), ranked("score_b")
    for r in rows:
        r["rank_a"], r["rank_b"] = rank_a.get(r["pk"]), rank_b.get(r["pk"])
        r["delta"] = r["rank_a"] - r["rank_b"] if r["rank_a"] and r["rank_b"] else None
    return sorted(rows, key=lambda r: (r["rank_b"] is None, r["rank_b"] or 0, r["pk"]))
