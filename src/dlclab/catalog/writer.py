"""Write the lab's Intake 2 catalogues from release manifests.

:func:`write_catalogs` is the one writer: ``dlclab sample`` and ``dlclab convert`` call
it with the manifests of the releases below a data root; the meta-data catalogue can
call it with manifests it holds (``Manifest`` objects or their ``to_dict()`` form).
It writes, atomically (temporary file + rename), into ``out_dir``:

``dlc.yaml``    top catalogue: entries ``kcdc`` and ``taiga`` (sub-catalogues)
``kcdc.yaml``   KASCADE releases: ``events``, ``events_dask``, ``stations``, ``datasets``
``taiga.yaml``  TAIGA releases: ``events``, ``events_dask``, ``iact_images``, ``files``, ``datasets``

Every URL is templated on the ``data_root`` parameter (default: the directory above the
catalogue), so the same files serve a local path, a shared mount or an object store.
The user parameters keep their ``cls:`` so that Intake validates them on load.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from dlclab.store.manifest import Manifest
from dlclab.store.schema import KASCADE, KCDC_TO_STORE, SHARED

PARAMS = "dlclab.catalog.parameters"
READERS = "intake.readers.readers"
DATATYPES = "intake.readers.datatypes"
SUBCATALOG = "dlclab.catalog.readers:SubCatalogReader"
CATALOG_FILES = ("dlc.yaml", "kcdc.yaml", "taiga.yaml")
#: the columns every ``component`` selection keeps, so rows stay identifiable
ID_COLUMNS = ["uuid", "run", "event", "time", "dataset", "experiment", "release"]


def _param(cls: str, **fields: Any) -> dict[str, Any]:
    return {"cls": f"{PARAMS}:{cls}", **fields}


def _data_root_param(default: str) -> dict[str, Any]:
    return _param("DataRootParameter", default=default,
                  description="data root: local path, shared mount or fsspec URL "
                              "(file:///..., s3://...); default: the folder above this catalogue")


def _entry(reader: str, data_key: str, output: str, description: str, **kwargs: Any) -> dict:
    return {"reader": f"{READERS}:{reader}", "output_instance": output,
            "kwargs": {"args": [f"{{data({data_key})}}"], **kwargs},
            "metadata": {"description": description}, "user_parameters": {}}


def _data(datatype: str, url: str, description: str) -> dict[str, Any]:
    return {"datatype": f"{DATATYPES}:{datatype}",
            "kwargs": {"url": url, "storage_options": None},
            "metadata": {"description": description}, "user_parameters": {}}


def _catalog(user_parameters: dict, data: dict, entries: dict, metadata: dict) -> dict[str, Any]:
    return {"version": 2, "metadata": metadata, "user_parameters": user_parameters,
            "data": data, "entries": entries, "aliases": {k: k for k in entries}}


def _as_manifest(obj: Manifest | dict | str | os.PathLike) -> Manifest:
    if isinstance(obj, Manifest):
        return obj
    if isinstance(obj, dict):
        from dlclab.store.manifest import ReleaseInfo

        info = ReleaseInfo(**{k: obj[k] for k in ReleaseInfo.__dataclass_fields__ if k in obj})
        return Manifest(info=info, created=obj["created"], datasets=obj["datasets"],
                        sources=obj.get("sources", []), build_id=obj.get("build_id", ""),
                        files=obj.get("files", {}), software=obj.get("software", {}))
    return Manifest.read(Path(obj))


def _scalars(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if not isinstance(v, (list, dict))}


def _release_summary(m: Manifest) -> dict[str, Any]:
    """What the catalogue says about a release: metadata and each data set's size and
    exposure (scalars only: the catalogue stays small and quick to load; the full
    exposure, e.g. thrown spectra, is in the manifest and the ``datasets`` entry)."""
    datasets = {name: {**_scalars(d), "exposure": _scalars(d.get("exposure") or {})}
                for name, d in m.datasets.items()}
    return {"version": m.info.version, "kind": m.info.kind, "title": m.info.title,
            "access": m.info.access, "licence": m.info.licence, "doi": m.info.doi,
            "created": m.created, "datasets": datasets}


def _default_release(manifests: list[Manifest]) -> str:
    """The newest measured release (highest version), else the newest of any kind."""
    def key(m: Manifest):
        v = m.info.version
        return (m.info.kind == "measured", float(v) if _is_number(v) else 0.0, m.release)

    return max(manifests, key=key).release


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _dataset_param(manifests: list[Manifest]) -> dict[str, Any]:
    names = sorted({d for m in manifests for d in m.datasets})
    options: dict[str, Any] = {"all": None}
    options.update({d: [[["dataset", "==", d]]] for d in names})  # DNF: OR of ANDs
    return _param("FilterChoiceParameter", options=options, default=None, default_name="all",
                  name="dataset", description="one data set of the release, or all")


def kascade_component_columns() -> dict[str, list[str] | None]:
    """KCDC component -> the store columns it maps to (plus the identifying columns)."""
    out: dict[str, list[str] | None] = {"all": None}
    for (component, _quantity), column in KCDC_TO_STORE.items():
        cols = out.setdefault(component, list(ID_COLUMNS))
        if column not in cols:
            cols.append(column)
    return out


def kcdc_catalog(manifests: list[Manifest]) -> dict[str, Any]:
    releases = sorted(m.release for m in manifests)
    root = "{data_root}/releases/kascade/{release}"
    params = {
        "data_root": _data_root_param("dlclab_data_root(..)"),
        "release": _param("ChoiceParameter", options=releases,
                          default=_default_release(manifests) if manifests else None,
                          name="release", description="KASCADE release (KCDC name)"),
        "component": _param("NamedChoiceParameter", options=kascade_component_columns(),
                            default=None, default_name="all", name="component",
                            description="KCDC component whose columns to read, or all"),
        "dataset": _dataset_param(manifests),
    }
    data = {
        "events_parquet": _data("Parquet", f"{root}/events",
                                "event table, hive-partitioned by experiment and release"),
        "stations_parquet": _data("Parquet", f"{root}/stations",
                                  "per-station deposits and arrival times (events with arrays)"),
        "datasets_parquet": _data("Parquet", f"{root}/datasets.parquet",
                                  "data sets of the release with their exposure"),
    }
    units = {c.name: c.unit for c in SHARED + KASCADE if c.unit}
    entries = {
        "events": _entry("PandasParquet", "events_parquet", "pandas:DataFrame",
                         "KASCADE events (pandas); parameters component and dataset select "
                         "columns and rows", columns="{component}", filters="{dataset}"),
        "events_dask": _entry("DaskParquet", "events_parquet", "dask.dataframe:DataFrame",
                              "KASCADE events (dask, lazy)", columns="{component}",
                              filters="{dataset}"),
        "stations": _entry("PandasParquet", "stations_parquet", "pandas:DataFrame",
                           "per-station arrays, one row per event and station (join on uuid)",
                           filters="{dataset}"),
        "datasets": _entry("PandasParquet", "datasets_parquet", "pandas:DataFrame",
                           "data sets: events, exposure (area, live time, zenith range)"),
    }
    for name in ("events", "events_dask"):
        entries[name]["metadata"]["units"] = units
    meta = {"description": "KASCADE (KCDC) analysis-ready releases",
            "experiment": "kascade", "releases": {m.release: _release_summary(m) for m in manifests}}
    return _catalog(params, data, entries, meta)


def taiga_catalog(manifests: list[Manifest]) -> dict[str, Any]:
    releases = sorted(m.release for m in manifests)
    facilities = sorted({d.get("facility") for m in manifests for d in m.datasets.values()
                         if d.get("facility")})
    root = "{data_root}/releases/taiga/{release}"
    facility_options: dict[str, Any] = {"all": None}
    facility_options.update({f: [[["facility", "==", f]]] for f in facilities})
    params = {
        "data_root": _data_root_param("dlclab_data_root(..)"),
        "release": _param("ChoiceParameter", options=releases,
                          default=_default_release(manifests) if manifests else None,
                          name="release", description="TAIGA release"),
        "facility": _param("FilterChoiceParameter", options=facility_options, default=None,
                           default_name="all", name="facility",
                           description="TAIGA facility whose events to read, or all"),
    }
    data = {
        "events_parquet": _data("Parquet", f"{root}/events",
                                "event table from the raw files (+ true_* for simulations)"),
        "files_parquet": _data("Parquet", f"{root}/files.parquet", "raw files of the release"),
        "datasets_parquet": _data("Parquet", f"{root}/datasets.parquet",
                                  "data sets of the release with their exposure"),
        "iact_zarr": _data("Zarr", f"{root}/iact_images.zarr",
                           "TAIGA-IACT camera images, event x pixel, camera geometry as coordinates"),
    }
    entries = {
        "events": _entry("PandasParquet", "events_parquet", "pandas:DataFrame",
                         "TAIGA events (pandas); parameter facility selects rows",
                         filters="{facility}"),
        "events_dask": _entry("DaskParquet", "events_parquet", "dask.dataframe:DataFrame",
                              "TAIGA events (dask, lazy)", filters="{facility}"),
        "iact_images": _entry("XArrayDatasetReader", "iact_zarr", "xarray:Dataset",
                              "TAIGA-IACT images (xarray, lazy, dims event x pixel)",
                              engine="zarr", chunks={}),
        "files": _entry("PandasParquet", "files_parquet", "pandas:DataFrame",
                        "raw files: facility, date, size, sha256, events", filters="{facility}"),
        "datasets": _entry("PandasParquet", "datasets_parquet", "pandas:DataFrame",
                           "data sets: events, exposure (area, live time, zenith range)"),
    }
    meta = {"description": "TAIGA / Tunka releases (collaboration access where stated)",
            "experiment": "taiga", "releases": {m.release: _release_summary(m) for m in manifests}}
    return _catalog(params, data, entries, meta)


def top_catalog(data_root_default: str = "dlclab_data_root(..)") -> dict[str, Any]:
    """The top catalogue: ``kcdc`` and ``taiga`` sub-catalogues below ``{data_root}/catalogs``."""
    params = {"data_root": _data_root_param(data_root_default)}
    entries = {}
    for name, what in (("kcdc", "KASCADE (KCDC) releases"), ("taiga", "TAIGA / Tunka releases")):
        entries[name] = {
            "reader": SUBCATALOG, "output_instance": "intake.readers.entry:Catalog",
            "kwargs": {"path": f"{{data_root}}/catalogs/{name}.yaml",
                       "parameters": {"data_root": "{data_root}"}},
            "metadata": {"description": what}, "user_parameters": {}}
    meta = {"description": "Astroparticle Data Life Cycle Lab: KASCADE (KCDC) and TAIGA data",
            "usage": "cat.kcdc(release=...)['events'].read(); cat.taiga['iact_images'].read()"}
    return _catalog(params, {}, entries, meta)


def _write_yaml_atomic(doc: dict[str, Any], path: Path) -> None:
    text = ("# Generated by dlclab.catalog.write_catalogs from the release manifests; "
            "do not edit.\n" + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_catalogs(releases: Iterable[Manifest | dict | str | os.PathLike], out_dir: str | os.PathLike,
                   ) -> list[Path]:
    """Write ``dlc.yaml``, ``kcdc.yaml`` and ``taiga.yaml`` into ``out_dir``.

    ``releases``: ``Manifest`` objects, manifest dicts or release directories. Each file
    is replaced atomically; an unchanged file is not rewritten. Returns the paths.
    """
    manifests = [_as_manifest(r) for r in releases]
    by_experiment = {e: [m for m in manifests if m.experiment == e] for e in ("kascade", "taiga")}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    docs = {"dlc.yaml": top_catalog(), "kcdc.yaml": kcdc_catalog(by_experiment["kascade"]),
            "taiga.yaml": taiga_catalog(by_experiment["taiga"])}
    paths = []
    for name, doc in docs.items():
        path = out / name
        new = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)
        if not (path.exists() and path.read_text(encoding="utf-8").split("\n", 1)[-1] == new):
            _write_yaml_atomic(doc, path)
        paths.append(path)
    return paths
