"""Which folders of a data root are collaboration-internal, and restricting them.

The store decides *what* is internal (a release's ``access`` in its manifest, and raw
TAIGA data, which are always ``collaboration:taiga``); the hub decides *who* is in a
group. :func:`restricted_paths` lists the folders with their group;
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
    """``[(folder, group)]``: ``raw/taiga`` and every release whose access is
    ``collaboration:<group>``; an experiment folder whose releases all belong to one
    group is listed too (so that not even the release names are visible)."""
    layout = DataRoot(data_root)
    out: list[tuple[Path, str]] = []
    if layout.raw_taiga.exists():
        out.append((layout.raw_taiga, RAW_TAIGA_GROUP))
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


def apply_access(data_root: Path, *, dry_run: bool = False) -> list[tuple[Path, str, int]]:
    """``chgrp <group>`` and ``chmod 2750`` on each restricted folder (root only).
    Returns ``[(folder, group, gid)]``; a group that does not exist raises KeyError."""
    done = []
    for path, group in restricted_paths(data_root):
        gid = grp.getgrnam(group).gr_gid
        if not dry_run:
            os.chown(path, -1, gid)
            os.chmod(path, 0o2750)
        done.append((path, group, gid))
    return done
