"""Which folders of a data root are collaboration-internal, and restricting them.

The store decides *what* is internal (a release's ``access`` in its manifest, raw TAIGA
data, which are always ``collaboration:taiga``, and each collaboration's catalogue folder
``catalogs/collaborations/<group>``); the hub decides *who* is in a group. :func:`restricted_paths` lists the folders with their group;
:func:`apply_access` gives each to its Unix group with mode 2750 (group members read,
others cannot even list it). Everything else stays world-readable.
"""
from __future__ import annotations

import grp
import os
from pathlib import Path

from dlclab.store.layout import DataRoot
from dlclab.store.manifest import Manifest

#: raw TAIGA data are collaboration-internal whatever a release says
RAW_TAIGA_GROUP = "taiga"


def restricted_paths(data_root: Path) -> list[tuple[Path, str]]:
    """``[(folder, group)]``: ``raw/taiga``, every release whose access is
    ``collaboration:<group>`` and every ``catalogs/collaborations/<group>``; an experiment
    folder whose releases all belong to one group is listed too (so that not even the
    release names are visible)."""
    layout = DataRoot(data_root)
    out: list[tuple[Path, str]] = []
    if layout.raw_taiga.exists():
        out.append((layout.raw_taiga, RAW_TAIGA_GROUP))
    if layout.collaboration_catalogs.is_dir():
        for folder in layout.collaboration_catalogs.iterdir():
            if folder.is_dir() and not folder.is_symlink():
                out.append((folder, folder.name))
    groups_by_experiment: dict[Path, set[str | None]] = {}
    for release_dir in layout.release_dirs():
        group = Manifest.read(release_dir).info.access_group
        groups_by_experiment.setdefault(release_dir.parent, set()).add(group)
        if group:
            out.append((release_dir, group))
    for experiment_dir, groups in sorted(groups_by_experiment.items()):
        if len(groups) == 1 and None not in groups:
            out.append((experiment_dir, next(iter(groups))))
    return sorted(set(out))


def apply_access(data_root: Path, *, dry_run: bool = False,
                 skip_missing_groups: bool = False) -> list[tuple[Path, str, int]]:
    """``chgrp <group>`` and ``chmod 2750`` on each restricted folder (root only).
    Returns ``[(folder, group, gid)]``; a group that does not exist raises KeyError, or
    is passed over with ``skip_missing_groups`` (the lab creates it and applies the policy
    when it starts)."""
    done = []
    for path, group in restricted_paths(data_root):
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            if skip_missing_groups:
                continue
            raise
        if not dry_run:
            os.chown(path, -1, gid)
            os.chmod(path, 0o2750)
        done.append((path, group, gid))
    return done


def restrict_new_data(data_root: Path) -> list[tuple[Path, str, int]]:
    """Close collaboration data right after they are written, so that a running lab's
    users never see a new internal release open until the hub re-applies its policy.
    A no-op when not root (then there are no per-user permissions to enforce)."""
    if os.geteuid() != 0:
        return []
    return apply_access(data_root, skip_missing_groups=True)
