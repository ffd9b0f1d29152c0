"""Transactional, immutable release builds.

A release is built in a temporary directory in the private staging folder
``releases/.staging`` (mode 0700, the builder's own: nobody else can even list it), every
file and directory is fsync'ed, the manifest is written last, the tree gets its final
group and modes (public: readable by everyone; ``collaboration:<group>``: the group's,
2750/0440, nothing for others), and one ``rename`` makes the release appear: readers see
either no release or the whole release, never half of one, and a collaboration release is
never readable by others, not for a moment. A build that fails or is interrupted removes
its temporary directory; one that is killed leaves it behind, and the next build removes
it (its process is gone).

An existing release is never overwritten. Building it again with the same metadata,
the same source bytes and the same parameters (same ``build_id``) is a no-op;
anything else is refused with :class:`ReleaseExistsError`.
"""
from __future__ import annotations

import datetime as dt
import grp
import os
import shutil
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlclab.atomic import fsync_dir, fsync_tree, remove_stale, temporary_name
from dlclab.errors import DlclabError
from dlclab.store.layout import MANIFEST, DataRoot
from dlclab.store.manifest import (
    IntegrityError,
    Manifest,
    ReleaseInfo,
    build_id,
    list_files,
    plain,
    sha256_file,
    verify_release,
)



#: the private folder below ``releases/`` where releases are built (not a release: its
#: name starts with a dot)
STAGING = ".staging"


class ReleaseExistsError(DlclabError):
    """A release of that name exists and differs from the one being built."""


def staging_dir(data_root: Path) -> Path:
    """``releases/.staging``: created 0700 (mode at creation, never open), and refused
    unless it is a real directory of ours that nobody else may enter."""
    layout = DataRoot(data_root)
    layout.releases.mkdir(parents=True, exist_ok=True)
    path = layout.releases / STAGING
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or stat.S_IMODE(st.st_mode) & 0o077:
        raise DlclabError(
            f"{path}: the release staging folder must be a directory owned by uid "
            f"{os.geteuid()} with mode 0700 (found uid {st.st_uid}, mode "
            f"{stat.S_IMODE(st.st_mode):o}, {'a directory' if stat.S_ISDIR(st.st_mode) else 'not a directory'}); "
            "remove it and build again")
    return path


@dataclass(frozen=True)
class BuildResult:
    """Outcome of :func:`build_release`: ``status`` is ``"built"`` or ``"unchanged"``."""

    release_dir: Path
    manifest: Manifest
    status: str


def describe_sources(paths: Iterable[Path], data_root: Path | None = None) -> list[dict[str, Any]]:
    """``[{name, sha256, bytes}]`` of source files; ``name`` is relative to the data root
    when the file lies below it (so that a moved data root keeps its build ids)."""
    out = []
    root = Path(data_root).resolve() if data_root is not None else None
    for path in sorted({Path(p).resolve() for p in paths}):
        if not path.is_file():
            from dlclab.errors import FormatError

            raise FormatError(path, "source file does not exist", expected="a readable file")
        name = str(path)
        if root is not None and path.is_relative_to(root):
            name = path.relative_to(root).as_posix()
        out.append({"name": name, "sha256": sha256_file(path), "bytes": path.stat().st_size})
    return out


def software_versions() -> dict[str, str]:
    """Versions of the libraries that wrote a release's files."""
    from importlib import metadata

    out = {}
    for dist in ("dlclab", "pyarrow", "numpy", "pandas", "xarray", "zarr"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def remove_stale_builds(folder: Path) -> list[Path]:
    """Remove temporary build directories in ``folder`` (the staging folder; an
    experiment's folder for builds of older versions) whose process no longer runs."""
    return remove_stale(folder)


def _check_existing(target: Path, new_build_id: str) -> Manifest:
    """The existing release's manifest if it is the same build and intact, else raise."""
    manifest = Manifest.read(target)
    if manifest.build_id != new_build_id:
        raise ReleaseExistsError(
            f"{target}: release {manifest.experiment}/{manifest.release} exists with different "
            f"content or metadata (build {manifest.build_id[:12]}, this build {new_build_id[:12]}); "
            "releases are immutable: choose a new release name")
    verify_release(target)
    return manifest


def build_release(
    data_root: Path,
    info: ReleaseInfo,
    sources: Iterable[Path],
    write: Callable[[Path], dict[str, dict[str, Any]]],
    *,
    parameters: dict[str, Any] | None = None,
    before_commit: Callable[[Path], None] | None = None,
) -> BuildResult:
    """Build release ``info.release`` of ``info.experiment`` below ``data_root``, atomically.

    ``write(tmp_dir)`` writes the release's files into ``tmp_dir`` and returns the data
    sets ``{name: {"n_events": n, "exposure": {...}, ...}}`` for the manifest.
    ``parameters`` are whatever else decides the content (seeds, options); with the
    metadata and the sources' sha256 they make the build id. ``before_commit(tmp_dir)``,
    if given, is called with the finished tree (final modes) just before the rename (tests
    pause a publication there).
    """
    layout = DataRoot(data_root)
    target = layout.release_dir(info.experiment, info.release)
    described = describe_sources(sources, layout.root)
    new_id = build_id(info, described, parameters or {})
    if (target / MANIFEST).exists():
        return BuildResult(target, _check_existing(target, new_id), "unchanged")
    if target.exists():
        raise ReleaseExistsError(f"{target}: exists but has no {MANIFEST}; not a release, "
                                 "refusing to replace it")
    experiment_dir = layout.experiment_dir(info.experiment)
    experiment_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(experiment_dir)
    staging = staging_dir(layout.root)
    remove_stale_builds(staging)
    tmp = temporary_name(staging / f"{info.experiment}-{info.release}")
    tmp.mkdir(mode=0o700)
    try:
        datasets = plain(write(tmp))
        manifest = Manifest(
            info=info,
            created=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            datasets=datasets, sources=described, build_id=new_id,
            files=list_files(tmp), software=software_versions())
        manifest.write(tmp)
        set_release_modes(tmp, info.access_group)
        fsync_tree(tmp)
        if before_commit is not None:
            before_commit(tmp)
        try:
            os.rename(tmp, target)
        except OSError:
            # someone committed the same release meanwhile: fine if it is the same build
            if (target / MANIFEST).exists():
                return BuildResult(target, _check_existing(target, new_id), "unchanged")
            raise
        fsync_dir(experiment_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return BuildResult(target, manifest, "built")


def set_release_modes(top: Path, group: str | None) -> None:
    """Final modes of a release tree, read-only (releases are immutable): public, readable
    by everyone (0755/0444); collaboration ``group``, by the group only (2750/0440, group
    ``group``). Where the group does not exist yet or may not be given (not root, not a
    member), the tree stays the owner's (0700/0400) until the data policy hands it over.
    Called on the private staging tree only (nobody else can change it meanwhile)."""
    gid = _group_we_may_give(top, group)
    if group is None:
        dir_mode, file_mode = 0o755, 0o444
    elif gid is not None:
        dir_mode, file_mode = 0o2750, 0o440
    else:
        dir_mode, file_mode = 0o700, 0o400
    # children before parents: a directory closes last (we still traverse it meanwhile)
    for dirpath, _dirs, filenames in os.walk(top, topdown=False):
        for path in [*(os.path.join(dirpath, n) for n in filenames), dirpath]:
            if os.path.islink(path):
                continue
            if gid is not None:
                os.chown(path, -1, gid, follow_symlinks=False)
            os.chmod(path, dir_mode if os.path.isdir(path) else file_mode)


def _group_we_may_give(top: Path, group: str | None) -> int | None:
    """The gid of ``group`` if it exists and we may give ``top`` to it, else None."""
    if group is None:
        return None
    try:
        gid = grp.getgrnam(group).gr_gid
        os.chown(top, -1, gid, follow_symlinks=False)
    except (KeyError, PermissionError):
        return None
    return gid


def find_release(data_root: Path, release: str, experiment: str | None = None) -> Path:
    """The directory of a committed release by name (optionally within one experiment)."""
    from dlclab.errors import ParameterError

    layout = DataRoot(data_root)
    hits = [p for p in layout.release_dirs()
            if p.name == release and (experiment is None or p.parent.name == experiment)]
    if len(hits) == 1:
        return hits[0]
    known = sorted(f"{p.parent.name}/{p.name}" for p in layout.release_dirs())
    if not hits:
        raise ParameterError(f"no release {release!r} below {layout.releases}; "
                             f"releases: {', '.join(known) or 'none'}")
    raise ParameterError(f"release {release!r} exists for several experiments; name one of "
                         f"{', '.join(f'{p.parent.name}/{p.name}' for p in hits)}")


__all__ = ["BuildResult", "IntegrityError", "ReleaseExistsError", "STAGING", "build_release",
           "describe_sources", "find_release", "remove_stale_builds", "set_release_modes",
           "staging_dir"]
