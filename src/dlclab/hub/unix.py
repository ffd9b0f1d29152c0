"""System users, Unix groups and the data-access policy on disk (one machine, as root).

The hub's groups are the authority; they become Unix groups of the same name so that
file permissions enforce the data policy for everything a user runs (server, kernels,
terminals, dask workers):

* public data (releases whose ``manifest.json`` says ``"access": "public"``, KCDC exports,
  catalogues) is readable by everyone;
* collaboration-internal data (``raw/taiga``, releases whose manifest says
  ``"access": "collaboration:<group>"``; the list is :mod:`dlclab.store.access`'s) gets
  group ``<group>`` and no access for others, recursively (group read, set-gid
  directories; owner bits unchanged).

Every function here is idempotent: it changes only what differs and reports it.
"""
from __future__ import annotations

import grp
import logging
import os
import pwd
import stat
import subprocess
from collections.abc import Iterable
from pathlib import Path

from dlclab.errors import DlclabError
from dlclab.hub.settings import COLLABORATION_GROUPS, LAB_GROUPS

log = logging.getLogger(__name__)

#: folders of the data root whose non-internal contents are public
PUBLIC_TREES = ("catalogs", "releases", "raw")

def group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def ensure_groups(names: Iterable[str] = LAB_GROUPS) -> list[str]:
    """Create the missing system groups; return the ones created."""
    created = []
    for name in names:
        if not group_exists(name):
            subprocess.run(["groupadd", "--system", name], check=True)
            created.append(name)
    return created


def unix_groups_of(user: str) -> set[str]:
    """Supplementary groups of ``user`` that are lab groups."""
    return {g.gr_name for g in grp.getgrall() if user in g.gr_mem and g.gr_name in LAB_GROUPS}


def sync_user_groups(user: str, hub_groups: Iterable[str]) -> tuple[set[str], set[str]]:
    """Make ``user``'s Unix lab groups equal to its hub groups (lab groups only).

    Returns ``(added, removed)``. Takes effect for processes started afterwards (the
    spawner calls it before every server start).
    """
    wanted = {g for g in hub_groups if g in LAB_GROUPS}
    ensure_groups(wanted)
    current = unix_groups_of(user)
    added, removed = wanted - current, current - wanted
    for g in sorted(added):
        subprocess.run(["gpasswd", "-a", user, g], check=True, capture_output=True)
    for g in sorted(removed):
        subprocess.run(["gpasswd", "-d", user, g], check=True, capture_output=True)
    return added, removed


def _set_mode(path: Path, mode: int, changes: list[str]) -> None:
    st = path.lstat()
    if stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)
        changes.append(f"chmod {mode:o} {path}")


def _set_group(path: Path, gid: int, changes: list[str]) -> None:
    if path.lstat().st_gid != gid:
        os.chown(path, -1, gid, follow_symlinks=False)
        changes.append(f"chgrp {gid} {path}")


def restrict_tree(root: Path, group: str) -> list[str]:
    """``root`` and below: group ``group``, readable by the group, nothing for others.

    Only the group and "other" bits change (an immutable release stays read-only);
    directories get the set-gid bit so that new files inherit the group."""
    gid = grp.getgrnam(group).gr_gid
    changes: list[str] = []
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        _set_group(path, gid, changes)
        mode = stat.S_IMODE(path.lstat().st_mode) & ~0o007
        if path.is_dir():
            mode |= stat.S_ISGID | stat.S_IRGRP | stat.S_IXGRP
        else:
            mode |= stat.S_IRGRP | (stat.S_IXGRP if mode & stat.S_IXUSR else 0)
        _set_mode(path, mode, changes)
    return changes


def collaboration_trees(data_root: Path) -> dict[Path, str]:
    """Every collaboration-internal tree under ``data_root`` with its group.

    *What* is internal is the store's decision (:func:`dlclab.store.access.restricted_paths`:
    ``raw/taiga``, releases whose manifest says ``collaboration:<group>``, experiment
    folders whose releases all belong to one group); the hub applies it."""
    from dlclab.store.access import restricted_paths

    trees: dict[Path, str] = {}
    for path, group in restricted_paths(data_root):
        if group not in COLLABORATION_GROUPS:
            raise DlclabError(f"{path}: access group {group!r} is not a lab group; expected "
                              f"one of {', '.join(COLLABORATION_GROUPS)}")
        trees[path] = group
    return trees


def apply_data_policy(data_root: Path) -> list[str]:
    """Apply the data policy to ``data_root`` (idempotent); return what changed."""
    if not data_root.is_dir():
        return []
    ensure_groups()
    restricted = collaboration_trees(data_root)
    changes: list[str] = []
    # Public first: the data root itself and, below PUBLIC_TREES, everything not
    # collaboration-internal becomes world-readable. Other folders (the metadata
    # catalogue's database, which only the aggregation service may read) stay as they are.
    changes += _open_except(data_root, set(restricted), recurse=False)
    for name in PUBLIC_TREES:
        if (data_root / name).exists():
            changes += _open_except(data_root / name, set(restricted))
    for tree, group in restricted.items():
        changes += restrict_tree(tree, group)
    # Directories on the way down to the data root must be traversable.
    for parent in data_root.resolve().parents:
        mode = stat.S_IMODE(parent.stat().st_mode)
        if not mode & stat.S_IXOTH:
            os.chmod(parent, mode | stat.S_IXOTH)
            changes.append(f"chmod o+x {parent}")
    for line in changes:
        log.debug("data policy: %s", line)
    return changes


def _open_except(root: Path, restricted: set[Path], recurse: bool = True) -> list[str]:
    changes: list[str] = []
    stack = [root]
    while stack:
        path = stack.pop()
        if path in restricted or path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        want = mode | stat.S_IRGRP | stat.S_IROTH
        if path.is_dir():
            want |= stat.S_IXGRP | stat.S_IXOTH
            if recurse:
                stack.extend(path.iterdir())
        if want != mode:
            os.chmod(path, want)
            changes.append(f"chmod {want:o} {path}")
    return changes


def delete_system_user(name: str) -> None:
    """Remove a system user, its home and its mail spool (tests and admins)."""
    if user_exists(name):
        subprocess.run(["userdel", "-r", "-f", name], check=False, capture_output=True)
