"""Where things live below a data root (the contract in docs/architecture.md).

::

    <data root>/
      raw/taiga/<facility>/<YYYY-MM-DD>/<name>.NNN      raw TAIGA files        (collaboration:taiga)
      raw/taiga/truth/...                              simulation truth sidecars (collaboration:taiga)
      raw/kcdc/<release>/<data set>_{ASCII,HDF5,ROOT}/   KCDC-style exports     (public)
      releases/<experiment>/<release>/                  one immutable release
         events/experiment=<e>/release=<r>/<data set>.parquet
         stations/experiment=kascade/release=<r>/<data set>.parquet   (KASCADE arrays)
         iact_images.zarr                               (TAIGA with IACT data)
         datasets.parquet                               data sets and their exposure
         files.parquet                                  source files (TAIGA raw files)
         manifest.json                                  sha256 + size of every file
      releases/.staging/                               private (0700): releases being built
      catalogs/dlc.yaml, kcdc.yaml, taiga.yaml           generated Intake catalogues (public releases)
      catalogs/collaborations/<group>/{kcdc,taiga}.yaml  a collaboration's releases  (collaboration:<group>)
      metadata/                                        the aggregation service's (0700): catalogue.sqlite, exports/

Collaboration-internal data sit in whole subtrees (``raw/taiga``, each internal release,
each collaboration's catalogue folder) so that one ``chgrp``/``chmod`` per subtree
restricts them; see :mod:`dlclab.store.access`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: release and data-set names: letters, digits, ``._-``; must not start with a dot
#: (dot-names are the builder's temporary directories)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
EXPERIMENTS = ("kascade", "taiga")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class DataRoot:
    """Paths below one data root. Pure path arithmetic: nothing is created here."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    # raw data -----------------------------------------------------------------------
    @property
    def raw_taiga(self) -> Path:
        return self.root / "raw" / "taiga"

    def raw_kcdc(self, release: str) -> Path:
        return self.root / "raw" / "kcdc" / release

    # releases ------------------------------------------------------------------------
    @property
    def releases(self) -> Path:
        return self.root / "releases"

    def experiment_dir(self, experiment: str) -> Path:
        return self.releases / experiment

    def release_dir(self, experiment: str, release: str) -> Path:
        return self.releases / experiment / release

    @property
    def catalogs(self) -> Path:
        return self.root / "catalogs"

    @property
    def collaboration_catalogs(self) -> Path:
        """One folder per collaboration group holding its releases' catalogues."""
        return self.catalogs / "collaborations"

    @property
    def metadata(self) -> Path:
        """The meta-data catalogue and the aggregation service's state (private)."""
        return self.root / "metadata"

    def release_dirs(self) -> list[Path]:
        """Every committed release (a directory with a manifest), sorted by path."""
        if not self.releases.is_dir():
            return []
        return sorted(p.parent for p in self.releases.glob(f"*/*/{MANIFEST}")
                      if not p.parent.name.startswith("."))


def table_dir(release_dir: Path, table: str, experiment: str, release: str) -> Path:
    """Hive partition directory of one table (``events``, ``stations``) of a release."""
    return Path(release_dir) / table / f"experiment={experiment}" / f"release={release}"


def check_name(kind: str, name: str) -> str:
    """A release or data-set name, or :class:`~dlclab.errors.ParameterError`."""
    from dlclab.errors import ParameterError

    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ParameterError(
            f"{kind} name {name!r} is not valid: expected letters, digits, '.', '_' or '-' "
            "(at most 64, not starting with '.')")
    return name
