"""The releases a dashboard may offer: those whose files the user can actually read.

The catalogue of a collaboration member lists the collaboration's internal releases; the
file system decides who reads them (see docs/security.md). A dashboard that picked a
release only from the catalogue could pick one whose files refuse the kernel (a
``PermissionError`` deep in a reader, shown as an error cell). So every dashboard asks
here: among the catalogue's releases, which ones hold the entry it needs *and* are
readable by this process, and which one is the default (the same rule as the analyses:
:mod:`dlclab.analysis.inputs`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dlclab import config
from dlclab.store.layout import DataRoot

#: sub-catalogue -> experiment folder below ``releases/``
EXPERIMENT_OF_CATALOG = {"kcdc": "kascade", "taiga": "taiga"}
#: catalogue entry -> what it reads below the release folder
ENTRY_PATH = {"events": "events", "events_dask": "events", "stations": "stations",
              "datasets": "datasets.parquet", "files": "files.parquet",
              "iact_images": "iact_images.zarr"}
#: how a person names each sub-catalogue
EXPERIMENT_TITLE = {"kcdc": "KASCADE", "taiga": "TAIGA"}


def can_read(path: Path) -> bool:
    """True if this process may read ``path`` (a directory: list and enter it)."""
    try:
        is_dir = path.is_dir()
        exists = is_dir or path.exists()
    except OSError:  # a parent refuses us: not readable either
        return False
    if not exists:
        return False
    return os.access(path, os.R_OK | (os.X_OK if is_dir else 0))


@dataclass(frozen=True)
class ReleaseChoice:
    """The releases of one sub-catalogue for one entry: what can be read, the default."""

    catalog: str
    entry: str
    #: readable releases with their catalogue summaries, in the catalogue's order
    readable: dict[str, dict] = field(default_factory=dict)
    #: releases the catalogue lists whose files this user cannot read
    refused: list[str] = field(default_factory=list)
    #: the default release (None: nothing readable)
    release: str | None = None

    @property
    def title(self) -> str:
        return EXPERIMENT_TITLE.get(self.catalog, self.catalog)

    def missing(self) -> str:
        """In words: why there is no release to show and the command that gets one."""
        what = f"{self.title} release with {self.entry.replace('_', ' ')}"
        if self.refused:
            return (f"No {what} is readable for you: the catalogue lists "
                    f"{', '.join(self.refused)}, collaboration-internal releases whose files only "
                    f"the collaboration's members may read. Ask the lab's admin to add you to the "
                    f"collaboration's group, or build the public sample releases with `make data` "
                    f"(in the lab's checkout).")
        return (f"No {what} in the catalogue yet. Build the sample releases with `make data` "
                f"(in the lab's checkout), or convert your own with "
                f"`dlclab convert <raw files> --release <name> --out data`.")


def release_summaries(catalog: str) -> dict[str, dict]:
    """``{release: summary}`` of the sub-catalogue ``kcdc`` or ``taiga`` as this user sees it."""
    import dlclab

    try:
        sub = getattr(dlclab.catalog(), catalog).read()
    except FileNotFoundError:
        return {}  # no catalogue built yet: ReleaseChoice.missing() says how to build it
    return dict(sub.metadata.get("releases", {}))


def readable_releases(catalog: str, entry: str, summaries: dict[str, dict] | None = None,
                      data_root: Path | None = None) -> tuple[dict[str, dict], list[str]]:
    """(readable ``{release: summary}``, refused release names) of ``catalog`` for ``entry``."""
    if catalog not in EXPERIMENT_OF_CATALOG:
        raise ValueError(f"catalog {catalog!r}: expected one of {', '.join(EXPERIMENT_OF_CATALOG)}")
    if entry not in ENTRY_PATH:
        raise ValueError(f"entry {entry!r}: expected one of {', '.join(ENTRY_PATH)}")
    summaries = release_summaries(catalog) if summaries is None else summaries
    root = DataRoot(data_root or config.data_root())
    readable, refused = {}, []
    for name, summary in summaries.items():
        folder = root.release_dir(EXPERIMENT_OF_CATALOG[catalog], name)
        path = folder / ENTRY_PATH[entry]
        if can_read(folder) and can_read(path):
            readable[name] = summary
        elif not can_read(folder) or os.path.lexists(path):
            refused.append(name)  # listed, but its files refuse us
        # else: the release has no such entry (a KASCADE release without stations)
    return readable, sorted(refused)


def choose_release(catalog: str, entry: str, facility: str | None = None,
                   summaries: dict[str, dict] | None = None,
                   data_root: Path | None = None) -> ReleaseChoice:
    """The readable releases and the default one, by the analyses' rule: for TAIGA the
    newest release with ``facility`` data, for KASCADE the newest measured release."""
    from dlclab.analysis.inputs import _choose_release, _choose_taiga_release
    from dlclab.errors import ParameterError

    summaries = release_summaries(catalog) if summaries is None else summaries
    if facility is not None:
        summaries = {r: s for r, s in summaries.items() if facility in (s.get("datasets") or {})}
    readable, refused = readable_releases(catalog, entry, summaries, data_root)
    release = None
    if readable:
        try:
            release = (_choose_taiga_release(readable, None, facility) if catalog == "taiga" and facility
                       else _choose_release(readable, None, "measured", EXPERIMENT_TITLE[catalog]))
        except ParameterError:  # no measured one: any readable release
            release = max(readable)
    return ReleaseChoice(catalog, entry, readable, refused, release)
