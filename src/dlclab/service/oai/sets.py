"""OAI-PMH sets of the releases: by experiment (``experiment:kascade``) and by access
(``access:public``, ``access:collaboration``), each under its parent (``experiment``,
``access``). A record belongs to its leaf sets and, as the protocol has it, to their
parents."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from dlclab.metadata.models import PUBLIC, AccessGroup, Release

#: the protocol's setSpec syntax
SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
PUBLIC_SET, COLLABORATION_SET = "access:public", "access:collaboration"


@dataclass(frozen=True)
class OaiSet:
    spec: str
    name: str
    description: str


def _experiment_token(experiment: str) -> str:
    """An experiment's name as a setSpec part (lower case, characters outside the
    protocol's set replaced)."""
    return re.sub(r"[^A-Za-z0-9\-_.]", "_", experiment.lower())


def specs_of(release: Release) -> list[str]:
    """The leaf sets of ``release``."""
    access = PUBLIC_SET if release.access_group.name == PUBLIC else COLLABORATION_SET
    return [f"experiment:{_experiment_token(release.experiment)}", access]


def sets_of(releases: list[Release]) -> list[OaiSet]:
    """The sets with at least one of ``releases`` (the requester's visible ones), parents
    first: a set the requester cannot harvest from is not listed."""
    experiments = sorted({_experiment_token(r.experiment) for r in releases})
    kinds = {spec for r in releases for spec in specs_of(r) if spec.startswith("access:")}
    found: list[OaiSet] = []
    if experiments:
        found.append(OaiSet("experiment", "By experiment", "The releases grouped by experiment"))
        found += [OaiSet(f"experiment:{e}", f"{e.upper()} releases",
                         f"Every release of {e.upper()} data") for e in experiments]
    if kinds:
        found.append(OaiSet("access", "By access", "The releases grouped by who may read them"))
    if PUBLIC_SET in kinds:
        found.append(OaiSet(PUBLIC_SET, "Public releases", "Open data: anyone may read them"))
    if COLLABORATION_SET in kinds:
        found.append(OaiSet(COLLABORATION_SET, "Collaboration releases",
                            "Internal to a collaboration: its members may read them"))
    return found


def restrict(stmt: Select, session: Session, spec: str) -> Select:
    """``stmt`` (a SELECT of releases) limited to set ``spec``; a well-formed spec that
    names no set selects nothing (the caller answers ``noRecordsMatch``)."""
    parts = spec.split(":")
    if parts == ["experiment"] or parts == ["access"]:
        return stmt
    if len(parts) == 2 and parts[0] == "experiment":
        names = [e for e in session.scalars(select(Release.experiment).distinct())
                 if _experiment_token(e) == parts[1]]
        return stmt.where(Release.experiment.in_(names))
    if spec in (PUBLIC_SET, COLLABORATION_SET):
        public = Release.access_group.has(AccessGroup.name == PUBLIC)
        return stmt.where(public if spec == PUBLIC_SET else ~public)
    return stmt.where(false())
