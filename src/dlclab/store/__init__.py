"""The analysis-ready store: immutable, versioned releases of both experiments.

A release lives in ``<data root>/releases/<experiment>/<release>/`` (see
:mod:`dlclab.store.layout`): Parquet event tables partitioned by experiment and
release with one unified schema (:mod:`dlclab.store.schema`), IACT images in Zarr
(:mod:`dlclab.store.iact`), and a ``manifest.json`` with the sha256 of every file
(:mod:`dlclab.store.manifest`). Releases are written transactionally and never
overwritten (:mod:`dlclab.store.release`); :func:`verify_release` detects any change.

Public API::

    build_release(data_root, ReleaseInfo(...), sources, write)   # transactional build
    verify_release(release_dir) -> Manifest                      # IntegrityError if changed
    Manifest.read(release_dir)
    DataRoot(root).release_dirs()
    convert_kcdc_exports(...), convert_taiga_raw(...)            # dlclab convert
"""
from __future__ import annotations

from dlclab.store.layout import DataRoot
from dlclab.store.manifest import IntegrityError, Manifest, ReleaseInfo, verify_release
from dlclab.store.release import BuildResult, ReleaseExistsError, build_release, find_release

__all__ = ["BuildResult", "DataRoot", "IntegrityError", "Manifest", "ReleaseExistsError",
           "ReleaseInfo", "build_release", "find_release", "verify_release"]
