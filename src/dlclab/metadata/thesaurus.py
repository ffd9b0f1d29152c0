"""The thesaurus: unified terms across experiments, with units and synonyms.

``Thesaurus.resolve("Ze")`` -> the term ``zenith`` and a function turning values given in
the synonym's unit into the term's unit (degrees). The service resolves every criterion a
user writes through it, so ``E``, ``energy_eV`` and ``lgE`` all select on ``energy``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from dlclab.errors import ParameterError
from dlclab.metadata.models import PUBLIC, AccessGroup, TermSynonym, ThesaurusTerm

THESAURUS_FILE = Path(__file__).resolve().parent / "thesaurus.yaml"
#: Access groups every catalogue has; collaboration groups are added with their storages.
DEFAULT_GROUPS = {PUBLIC: "Open data, anyone with a lab account",
                  "taiga": "TAIGA collaboration (raw data)"}


@dataclass(frozen=True)
class Synonym:
    experiment: str
    name: str
    unit: str
    conversion: str = "identity"

    def to_term_unit(self, value: float) -> float:
        """A value in this synonym's unit -> the term's unit."""
        if self.conversion == "identity":
            return float(value)
        if self.conversion == "pow10":
            exponent = float(value)
            if exponent > 300:
                raise ParameterError(f"{self.name}={value}: 10**{value} is out of range")
            return float(10.0 ** exponent)
        if self.conversion.startswith("scale:"):
            return float(value) * float(self.conversion.split(":", 1)[1])
        raise ParameterError(f"thesaurus: unknown conversion {self.conversion!r} of {self.name!r}")


@dataclass(frozen=True)
class Term:
    name: str
    unit: str
    level: str
    description: str
    synonyms: tuple[Synonym, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Resolved:
    term: Term
    synonym: Synonym | None

    def convert(self, value: float) -> float:
        return self.synonym.to_term_unit(value) if self.synonym else float(value)


class Thesaurus:
    def __init__(self, terms: dict[str, Term]) -> None:
        self.terms = terms
        self._by_name: dict[str, Resolved] = {}
        for term in terms.values():
            self._by_name[term.name.lower()] = Resolved(term, None)
        for term in terms.values():
            for syn in term.synonyms:
                self._by_name.setdefault(syn.name.lower(), Resolved(term, syn))

    @classmethod
    def from_yaml(cls, path: Path = THESAURUS_FILE) -> "Thesaurus":
        raw = yaml.safe_load(path.read_text())
        terms = {}
        for name, spec in raw["terms"].items():
            synonyms = tuple(Synonym(**s) for s in spec.get("synonyms") or [])
            terms[name] = Term(name, str(spec["unit"]), spec["level"], spec.get("description", ""),
                               synonyms)
        return cls(terms)

    def resolve(self, name: str) -> Resolved:
        """The term a user's name stands for (a term name or any synonym, case-insensitive)."""
        found = self._by_name.get(name.strip().lower())
        if found is None:
            known = ", ".join(sorted(self.terms))
            raise ParameterError(f"unknown term {name!r}: expected one of the thesaurus terms "
                                 f"({known}) or one of their synonyms")
        return found

    def synonym_for(self, term: str, experiment: str) -> Synonym | None:
        """The name ``experiment`` gives ``term`` in its own unit (identity conversion)."""
        for syn in self.terms[term].synonyms:
            if syn.experiment == experiment and syn.conversion == "identity":
                return syn
        return None

    def event_terms(self) -> list[Term]:
        return [t for t in self.terms.values() if t.level == "event"]

    def column_map(self, columns: list[str]) -> dict[str, tuple[str, Callable[[float], float]]]:
        """Which columns of an event table carry which event-level term (first match wins)."""
        out: dict[str, tuple[str, Callable[[float], float]]] = {}
        for column in columns:
            found = self._by_name.get(column.lower())
            if found is None or found.term.level != "event" or found.term.name in {
                    v[0] for v in out.values()}:
                continue
            out[column] = (found.term.name, found.convert)
        return out


@lru_cache(maxsize=1)
def default_thesaurus() -> Thesaurus:
    return Thesaurus.from_yaml()


def check_finite(name: str, value: float) -> float:
    if not math.isfinite(value):
        raise ParameterError(f"{name}: expected a finite number, found {value!r}")
    return value


def seed_catalogue(session: Session, thesaurus: Thesaurus | None = None) -> None:
    """Insert the default access groups and the thesaurus terms that are missing."""
    thesaurus = thesaurus or default_thesaurus()
    have_groups = set(session.scalars(select(AccessGroup.name)))
    for name, text in DEFAULT_GROUPS.items():
        if name not in have_groups:
            session.add(AccessGroup(name=name, description=text))
    have_terms = {t.name: t for t in session.scalars(select(ThesaurusTerm))}
    for term in thesaurus.terms.values():
        row = have_terms.get(term.name)
        if row is None:
            row = ThesaurusTerm(name=term.name, unit=term.unit, level=term.level,
                                description=term.description)
            session.add(row)
        known = {(s.experiment, s.name) for s in row.synonyms}
        for syn in term.synonyms:
            if (syn.experiment, syn.name) not in known:
                row.synonyms.append(TermSynonym(experiment=syn.experiment, name=syn.name,
                                                unit=syn.unit, conversion=syn.conversion))
    session.flush()
