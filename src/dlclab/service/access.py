"""What an export was made from, and whether its owner may still read all of it.

An export is a copy of data taken under the owner's groups at the time. Removing a user
from a collaboration's hub group must end their access to the collaboration's data in
exports too: so the storages and releases of an export's files are recorded when the files
are selected, and status and download check them against the owner's groups *now*.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from dlclab.metadata.models import DataFile, Release, StorageInstance
from dlclab.metadata.query import Visibility


def sources_of(files: Iterable[DataFile]) -> dict[str, list[str]]:
    """The record kept with an export: storage names and release UUIDs of its files."""
    files = list(files)
    return {"storages": sorted({f.storage.name for f in files}),
            "releases": sorted({f.release.uuid for f in files if f.release is not None})}


def lost_access(s: Session, request_id: str, sources: dict | None, seen: Visibility) -> str | None:
    """Why the owner (who now sees ``seen``) may not have export ``request_id`` any more,
    or None if they still may read every storage and release it was made from."""
    if sources is None:
        return (f"export {request_id} was made before the service recorded what an export "
                "contains, so it cannot check you may still read it: request it again")
    for uuid in sources.get("releases", []):
        release = s.scalar(select(Release).where(Release.uuid == uuid))
        if release is None:
            return (f"export {request_id} contains release {uuid}, which is no longer in "
                    "the catalogue")
        if release.id not in seen.release_ids:
            return (f"export {request_id} contains release {release.name!r} (version "
                    f"{release.version}), internal to the {release.access_group.name!r} "
                    "collaboration, and you are no longer a member of that hub group")
    for name in sources.get("storages", []):
        storage = s.scalar(select(StorageInstance).where(StorageInstance.name == name))
        if storage is None:
            return (f"export {request_id} contains files of storage {name!r}, which is no "
                    "longer in the catalogue")
        if storage.id not in seen.storage_ids:
            return (f"export {request_id} contains files of storage {name!r}, internal to "
                    f"the {storage.access_group.name!r} collaboration, and you are no longer "
                    "a member of that hub group")
    return None
