"""Reads of specs: the state panel on the item page, versions, the diff
between two versions (line by line, per section) and the Markdown export."""

import difflib
from dataclasses import dataclass, field

from .models import SECTIONS, Spec, SpecReview, SpecVersion


@dataclass
class DiffLine:
    op: str  # "same", "added", "removed"
    text: str


@dataclass
class SectionDiff:
    name: str
    label: str
    changed: bool
    lines: list[DiffLine] = field(default_factory=list)


def diff_sections(old: dict, new: dict) -> list[SectionDiff]:
    """Each section's lines, marked added, removed or the same, from ``old``
    to ``new`` (dicts of section texts)."""
    out = []
    for name, label in SECTIONS:
        a = (old.get(name) or "").splitlines()
        b = (new.get(name) or "").splitlines()
        lines = []
        matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                lines += [DiffLine("same", t) for t in a[i1:i2]]
                continue
            lines += [DiffLine("removed", t) for t in a[i1:i2]]
            lines += [DiffLine("added", t) for t in b[j1:j2]]
        out.append(SectionDiff(name, label, a != b, lines))
    return out


def version_pair(spec: Spec, old: int, new: int) -> tuple[SpecVersion, SpecVersion] | None:
    """The two stored versions of ``spec`` (one query), or None if either is missing."""
    found = {v.number: v for v in SpecVersion.objects.filter(spec=spec, number__in=[old, new])}
    if old not in found or new not in found:
        return None
    return found[old], found[new]


def reviews_of(spec: Spec) -> list[SpecReview]:
    """Reviews with their reviewers, each marked ``stale`` against the
    spec's current version."""
    reviews = list(SpecReview.objects.filter(spec=spec).select_related("reviewer"))
    for r in reviews:
        r.stale = r.is_stale(spec.version)
    return reviews


def as_markdown(spec: Spec, *, objectives=(), reviews=()) -> str:
    """The spec as one Markdown document: title, state, the objectives the
    item serves, each section under its heading, and the reviews."""
    item = spec.item
    lines = [
        f"# {item.key}: {item.title}",
        "",
        f"Spec version {spec.version} · {spec.get_state_display()}",
        "",
    ]
    if objectives:
        lines += ["## Objectives served", ""]
        lines += [f"- {o.title}" for o in objectives]
        lines.append("")
    for name, label in SECTIONS:
        lines += [f"## {label}", "", getattr(spec, name) or "_Not written yet._", ""]
    if reviews:
        lines += ["## Reviews", ""]
        for r in reviews:
            who = r.reviewer.get_full_name() or r.reviewer.get_username()
            verdict = r.get_verdict_display()
            if r.spec_version:
                stale = " (stale)" if r.is_stale(spec.version) else ""
                verdict += f" on version {r.spec_version}{stale}"
            lines.append(f"- {who}: {verdict}" + (f" — {r.comment}" if r.comment else ""))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
