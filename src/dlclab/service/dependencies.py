"""What every router of the service depends on: settings, identity, a catalogue session,
and the user's visibility (as FastAPI dependencies, the way jupyterhub's FastAPI service
example does it).

Every route depends on :data:`UserDep` (a hub identity is required) except ``/oai``, which
depends on :data:`OptionalUserDep`. Tests of non-security logic may override
:func:`current_user` (and :func:`optional_user`); the security tests run
against a real hub.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from dlclab.errors import ParameterError
from dlclab.metadata.models import Release, StorageInstance
from dlclab.metadata.query import FileQuery, Visibility, parse_cut, visibility
from dlclab.metadata.thesaurus import Thesaurus
from dlclab.service import schemas
from dlclab.service.auth import ANONYMOUS, User
from dlclab.service.settings import ServiceSettings

ERRORS = {400: {"model": schemas.ErrorOut}, 401: {"model": schemas.ErrorOut},
          403: {"model": schemas.ErrorOut}, 404: {"model": schemas.ErrorOut}}


def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


async def current_user(request: Request) -> User:
    """The hub user behind the request (401 without a valid token, 403 without the scope)."""
    return await request.app.state.identity.user(request)


async def optional_user(request: Request) -> User:
    """The hub user behind the request, or :data:`ANONYMOUS` when it carries no credential
    at all (no token header, no login cookie). Only the OAI-PMH route uses it: registries
    harvest public records without a lab account. A credential that is sent must still be
    valid (401/403 as for :func:`current_user`), so a harvester with a mistyped or expired
    token learns it instead of silently getting only the public records."""
    if request.app.state.identity.token_of(request) is None:
        return ANONYMOUS
    return await current_user(request)


def catalogue_session(request: Request):
    with Session(request.app.state.engine, expire_on_commit=False) as s:
        yield s


def get_thesaurus(request: Request) -> Thesaurus:
    return request.app.state.thesaurus


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
UserDep = Annotated[User, Depends(current_user)]
OptionalUserDep = Annotated[User, Depends(optional_user)]
SessionDep = Annotated[Session, Depends(catalogue_session)]
ThesaurusDep = Annotated[Thesaurus, Depends(get_thesaurus)]


async def current_member(request: Request, user: UserDep) -> User:
    """The user with their hub groups as they are now, not as the token cache has them:
    for decisions that must follow a removal from a group at once (export status and
    download). Tests of non-security logic override it together with :func:`current_user`."""
    return await request.app.state.identity.current(user)


MemberDep = Annotated[User, Depends(current_member)]


def seen_by(s: Session, user: User) -> Visibility:
    return visibility(s, user.access_groups)


def utc_naive(moment: datetime | None) -> datetime | None:
    """The catalogue stores naive UTC; an aware datetime is converted, a naive one kept."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def clean_names(values: list[str], name: str) -> list[str]:
    for value in values:
        if not value or len(value) > 64 or "\x00" in value or not value.isprintable():
            raise ParameterError(f"{name}={value!r}: expected a printable name of 1..64 characters")
    return values


def refuse_named(s: Session, seen: Visibility, storages: list[str], release: str | None) -> None:
    """A named storage or release the user may not see is refused with 403."""
    for name in storages:
        row = s.scalar(select(StorageInstance).where(StorageInstance.name == name))
        if row is not None and row.id not in seen.storage_ids:
            raise HTTPException(403, f"storage {name!r} is internal to the "
                                f"{row.access_group.name!r} collaboration")
    if release:
        for row in s.scalars(select(Release).where(Release.name == release)):
            if row.id not in seen.release_ids:
                raise HTTPException(403, f"release {release!r} is internal to the "
                                    f"{row.access_group.name!r} collaboration")


def build_query(s: Session, seen: Visibility, thesaurus: Thesaurus, q: schemas.QueryIn,
                cuts: list[str], limit: int = 100, offset: int = 0,
                include_errors: bool = False) -> FileQuery:
    """A validated :class:`FileQuery` from a request's query; names the user may not see
    are refused with 403."""
    clean_names(q.experiment, "experiment"), clean_names(q.facility, "facility")
    clean_names(q.storage, "storage"), clean_names([q.release] if q.release else [], "release")
    refuse_named(s, seen, q.storage, q.release)
    return FileQuery(start=utc_naive(q.start), end=utc_naive(q.end), experiment=q.experiment,
                     facility=q.facility, cluster=q.cluster, station=q.station,
                     release=q.release, storage=q.storage,
                     cuts=[parse_cut(c, thesaurus) for c in clean_names(cuts, "cut")],
                     limit=limit, offset=offset, include_errors=include_errors)
