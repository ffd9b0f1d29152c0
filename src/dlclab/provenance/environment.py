"""The software environment of a run: the lock's digest and the versions that matter."""
from __future__ import annotations

import hashlib
import platform
import sys
from importlib import metadata
from pathlib import Path

from dlclab import config

#: Packages whose versions go into every provenance record.
RECORDED_PACKAGES = ("dlclab", "numpy", "scipy", "pandas", "pyarrow", "xarray", "zarr", "intake", "astropy",
                     "iminuit", "ctapipe", "torch", "scikit-learn", "papermill", "matplotlib", "crflux", "rocrate")


def lock_file() -> Path | None:
    if config.PROJECT_ROOT is not None:
        lock = config.PROJECT_ROOT / "requirements" / "lab.lock"
        if lock.exists():
            return lock
    return None


def environment() -> dict:
    """{lock: {path, sha256}, packages: {name: version}, python, platform}."""
    lock = lock_file()
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "lock": {"path": str(lock) if lock else None,
                 "sha256": hashlib.sha256(lock.read_bytes()).hexdigest() if lock else None},
        "packages": versions,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
