"""System users, Unix groups and the data-access policy on disk (one machine, as root).

The hub's groups are the authority; they become Unix groups of the same name so that
file permissions enforce the data policy for everything a user runs (server, kernels,
terminals, dask workers):

* public data (releases whose ``manifest.json`` says ``"access": "public"``, KCDC exports,
  catalogues) is readable by everyone;
* collaboration-internal data (``raw/taiga``, ``raw/kascade``, releases whose manifest
  says ``"access": "collaboration:<group>"``) gets group ``<group>`` and no access
  for others (group read, set-gid directories; owner bits unchanged).

Every function here is idempotent: it changes only what differs and reports it.
"""
from __future__ import annotations

import grp
import json
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

PUBLIC = "public"


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


def release_access(release_dir: Path) -> str:
    """The ``access`` of a release from its ``manifest.json`` (``public`` if absent)."""
    manifest = release_dir / "manifest.json"
    if not manifest.exists():
        return PUBLIC
    try:
        access = json.loads(manifest.read_text()).get("access", PUBLIC)
    except (ValueError, AttributeError) as exc:
        raise DlclabError(f"not a JSON object with an 'access' field ({exc})") from exc
    return str(access or PUBLIC).strip()


def group_of_access(access: str) -> str | None:
    """``public`` -> None; ``collaboration:taiga`` (or ``taiga``) -> ``taiga``."""
    if access == PUBLIC:
        return None
    name = access.split(":", 1)[1] if access.startswith("collaboration:") else access
    if name not in COLLABORATION_GROUPS:
        raise DlclabError(f"unknown access {access!r}: expected 'public' or "
                          f"'collaboration:<{'|'.join(COLLABORATION_GROUPS)}>'")
    return name


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
    """Every collaboration-internal tree under ``data_root`` with its group."""
    trees: dict[Path, str] = {}
    for name in COLLABORATION_GROUPS:
        raw = data_root / "raw" / name
        if raw.is_dir():
            trees[raw] = name
    releases = data_root / "releases"
    if releases.is_dir():
        for manifest in sorted(releases.glob("*/*/manifest.json")):
            try:
                group = group_of_access(release_access(manifest.parent))
            except DlclabError as exc:
                raise DlclabError(f"{manifest}: {exc}") from None
            if group:
                trees[manifest.parent] = group
    return trees


def apply_data_policy(data_root: Path) -> list[str]:
    """Apply the data policy to ``data_root`` (idempotent); return what changed."""
    if not data_root.is_dir():
        return []
    ensure_groups()
    restricted = collaboration_trees(data_root)
    changes = []
    # Public first: everything not collaboration-internal becomes world-readable.
    changes += _open_except(data_root, set(restricted))
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


def _open_except(root: Path, restricted: set[Path]) -> list[str]:
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
            stack.extend(path.iterdir())
        if want != mode:
            os.chmod(path, want)
            changes.append(f"chmod {want:o} {path}")
    return changes


def delete_system_user(name: str) -> None:
    """Remove a system user, its home and its mail spool (tests and admins)."""
    if user_exists(name):
        subprocess.run(["userdel", "-r", "-f", name], check=False, capture_output=True)
