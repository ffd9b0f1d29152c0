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

Services run as unprivileged system accounts (a ``services.d`` entry's ``user``):
:func:`ensure_service_account` creates one (no login, no home) with its supplementary
groups, and :func:`hand_over_private_dir` gives it its private folders (the meta-data
catalogue: 0700, nobody else may enter).

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
#: folders below the public trees that stay private (the builder's staging area)
PRIVATE_FOLDERS = ("releases/.staging",)

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
    closed = set(restricted) | {data_root / name for name in PRIVATE_FOLDERS}
    changes += _open_except(data_root, closed, recurse=False)
    for name in PUBLIC_TREES:
        if (data_root / name).exists():
            changes += _open_except(data_root / name, closed)
    for tree, group in restricted.items():
        changes += restrict_tree(tree, group)
    # The folders above the data root are not the lab's: never opened here (that once
    # made /root traversable); require_reachable says which ones are closed.
    for line in changes:
        log.debug("data policy: %s", line)
    return changes


def closed_ancestors(path: Path) -> list[Path]:
    """The folders above ``path`` that others cannot traverse (no ``o+x``)."""
    return [p for p in Path(path).resolve().parents
            if not stat.S_IMODE(p.stat().st_mode) & stat.S_IXOTH]


def require_reachable(data_root: Path) -> None:
    """Refuse a data root that lab users cannot reach, naming the closed folders above it
    (opening them would expose everything readable below them to every user)."""
    closed = closed_ancestors(data_root)
    if closed:
        raise DlclabError(
            f"lab users cannot reach the data root {data_root}: not traversable by others: "
            f"{' '.join(map(str, closed))}; move it below a folder they may traverse (e.g. "
            f"/srv/dlclab/data), or give exactly those folders o+x yourself")


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


def ensure_service_account(name: str, groups: Iterable[str] = ()) -> list[str]:
    """Create system account ``name`` (no login shell, no home, its own group) if missing
    and add it to ``groups`` (lab groups it needs, e.g. to read collaboration releases it
    serves to members). Returns what changed. Safe when several hubs start at once."""
    changes: list[str] = []
    if not user_exists(name):
        done = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                               "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                               "--comment", "dlclab service account", name],
                              capture_output=True, text=True)
        if done.returncode != 0 and not user_exists(name):
            raise DlclabError(f"could not create the service account {name!r}: "
                              f"{done.stderr.strip() or done.returncode}")
        changes.append(f"useradd {name}")
    wanted = set(groups)
    ensure_groups(wanted)
    members = {g.gr_name for g in grp.getgrall() if name in g.gr_mem}
    for group in sorted(wanted - members):
        subprocess.run(["gpasswd", "-a", name, group], check=True, capture_output=True)
        changes.append(f"gpasswd -a {name} {group}")
    return changes


def hand_over_private_dir(path: Path, user: str) -> list[str]:
    """Make ``path`` the private folder of ``user``: created 0700 if missing, owned by
    ``user``, mode 0700; what root left in it (e.g. a catalogue written by ``make data``)
    becomes ``user``'s, with no access for group and others.

    Root never acts on a name the account could swap: every step goes through file
    descriptors opened with ``O_NOFOLLOW`` relative to the folder's descriptor, and only
    entries owned by root with a single link are changed (the account's own files are
    its business; a hard link to a foreign file is left alone)."""
    pw = pwd.getpwnam(user)
    changes: list[str] = []
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
        changes.append(f"mkdir {path}")
    except FileExistsError:
        pass
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        raise DlclabError(f"{path}: expected the private folder of {user!r} (a directory, "
                          f"not a symbolic link): {exc.strerror}") from exc
    try:
        st = os.fstat(fd)
        if st.st_uid not in (0, pw.pw_uid):
            raise DlclabError(f"{path}: owned by uid {st.st_uid}; expected root or {user!r} "
                              "(refusing to hand over someone else's folder)")
        changes += _hand_over_fd(fd, str(path), pw, top=True)
    finally:
        os.close(fd)
    for line in changes:
        log.debug("service account: %s", line)
    return changes


def _hand_over_fd(fd: int, where: str, pw: pwd.struct_passwd, top: bool = False) -> list[str]:
    """Give the directory open as ``fd`` (and, recursively, its root-owned entries) to
    ``pw``; group and others lose all access."""
    changes: list[str] = []
    st = os.fstat(fd)
    if top or st.st_uid == 0:
        if (st.st_uid, st.st_gid) != (pw.pw_uid, pw.pw_gid):
            os.fchown(fd, pw.pw_uid, pw.pw_gid)
            changes.append(f"chown {pw.pw_name} {where}")
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.fchmod(fd, 0o700)
            changes.append(f"chmod 700 {where}")
    if st.st_uid != 0 and not top:
        return changes  # the account's own folder: its business
    for name in os.listdir(fd):
        try:
            child = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
        except OSError:
            continue  # a symbolic link, a socket, gone meanwhile: not ours to change
        try:
            cst = os.fstat(child)
            if stat.S_ISDIR(cst.st_mode):
                changes += _hand_over_fd(child, f"{where}/{name}", pw)
            elif stat.S_ISREG(cst.st_mode) and cst.st_uid == 0 and cst.st_nlink == 1:
                os.fchown(child, pw.pw_uid, pw.pw_gid)
                os.fchmod(child, stat.S_IMODE(cst.st_mode) & 0o700)
                changes.append(f"chown {pw.pw_name} {where}/{name}")
        finally:
            os.close(child)
    return changes


def delete_system_user(name: str) -> None:
    """Remove a system user, its home and its mail spool (tests and admins)."""
    if user_exists(name):
        subprocess.run(["userdel", "-r", "-f", name], check=False, capture_output=True)
