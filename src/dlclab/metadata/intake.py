"""The lab's Intake catalogues, generated from the meta-data catalogue.

Every release the catalogue knows on a local storage (``file://``) is located through its
storage root and the release folder the extractor recorded; their manifests go to the
store's writer (:func:`dlclab.catalog.writer.write_catalogs`). So the Intake catalogues
list exactly the releases the meta-data catalogue lists, and never drift from the data.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dlclab.errors import ParameterError
from dlclab.metadata.models import Release, StorageInstance


def release_dirs(engine: Engine) -> list[Path]:
    """Folders (with a manifest.json) of the catalogued releases on local storages."""
    out = []
    with Session(engine) as session:
        rows = session.execute(select(Release, StorageInstance).join(
            StorageInstance, StorageInstance.id == Release.storage_id).order_by(Release.id))
        for release, storage in rows:
            provenance = json.loads(release.provenance or "{}")
            folder = provenance.get("release_dir")
            url = urlparse(storage.url)
            if not folder or url.scheme != "file":
                continue
            path = Path(url2pathname(url.path)) / folder
            if (path / "manifest.json").exists():
                out.append(path)
    return out


def write_intake_catalogs(engine: Engine, out_dir: Path) -> list[Path]:
    """Write dlc.yaml, kcdc.yaml and taiga.yaml for the catalogued releases."""
    from dlclab.catalog.writer import write_catalogs

    dirs = release_dirs(engine)
    if not dirs:
        raise ParameterError("the catalogue holds no release on a local storage: run "
                             "`dlclab extract <data root>/releases` first")
    return write_catalogs(dirs, out_dir)
