"""Write the lab's Intake 2 catalogues from release manifests.

:func:`write_catalogs` is the one writer: ``dlclab sample`` and ``dlclab convert`` call
it with the manifests of the releases below a data root; the meta-data catalogue can
call it with manifests it holds (``Manifest`` objects or their ``to_dict()`` form).
It writes, atomically (temporary file + rename), into ``out_dir``:

``dlc.yaml``    top catalogue: entries ``kcdc`` and ``taiga`` (sub-catalogues)
``kcdc.yaml``   public KASCADE releases: ``events``, ``events_dask``, ``stations``, ``datasets``
``taiga.yaml``  public TAIGA releases: ``events``, ``events_dask``, ``iact_images``, ``files``, ``datasets``
``collaborations/<group>/<experiment>.yaml``
                the releases whose access is ``collaboration:<group>`` (same structure)

The public files name no collaboration-internal release (not even its name). A
collaboration's folder is created private (0700, files 0640) and the data policy
(:mod:`dlclab.store.access`, :mod:`dlclab.hub.unix`) gives it to the group's Unix group,
so that only members read it. Opening a sub-catalogue
(:class:`dlclab.catalog.readers.SubCatalogReader`) merges the public file with the
collaboration files the user can read; the others are simply absent.

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
#: folder (below the catalogues) of the collaborations' catalogues, one subfolder per group
COLLABORATIONS = "collaborations"
#: the experiments with a sub-catalogue, each in ``<experiment-catalogue>.yaml``
SUBCATALOGS = {"kcdc": "kascade", "taiga": "taiga"}
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


def _default_release(releases: dict[str, dict[str, Any]]) -> str:
    """The newest measured release (highest version), else the newest of any kind."""
    def key(item: tuple[str, dict[str, Any]]):
        name, summary = item
        v = str(summary.get("version", ""))
        return (summary.get("kind") == "measured", float(v) if _is_number(v) else 0.0, name)

    return max(releases.items(), key=key)[0]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _dataset_param(releases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    names = sorted({d for summary in releases.values() for d in summary["datasets"]})
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


def summaries(manifests: Iterable[Manifest]) -> dict[str, dict[str, Any]]:
    """``{release: summary}``: what a sub-catalogue says about each release (and all it
    needs to be written again, so that catalogues can be merged)."""
    return {m.release: _release_summary(m) for m in manifests}


def kcdc_catalog(manifests: list[Manifest]) -> dict[str, Any]:
    """The KASCADE sub-catalogue of ``manifests``."""
    return kcdc_catalog_of(summaries(manifests))


def kcdc_catalog_of(releases: dict[str, dict[str, Any]],
                    data_root_default: str = "dlclab_data_root(..)") -> dict[str, Any]:
    """The KASCADE sub-catalogue of release summaries (:func:`summaries`); the data root
    defaults to ``data_root_default`` (relative to the catalogue's folder)."""
    releases = dict(sorted(releases.items()))
    names = list(releases)
    root = "{data_root}/releases/kascade/{release}"
    params = {
        "data_root": _data_root_param(data_root_default),
        "release": _param("ChoiceParameter", options=names,
                          default=_default_release(releases) if releases else None,
                          name="release", description="KASCADE release (KCDC name)"),
        "component": _param("NamedChoiceParameter", options=kascade_component_columns(),
                            default=None, default_name="all", name="component",
                            description="KCDC component whose columns to read, or all"),
        "dataset": _dataset_param(releases),
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
            "experiment": "kascade", "releases": releases}
    return _catalog(params, data, entries, meta)


def taiga_catalog(manifests: list[Manifest]) -> dict[str, Any]:
    """The TAIGA sub-catalogue of ``manifests``."""
    return taiga_catalog_of(summaries(manifests))


def taiga_catalog_of(releases: dict[str, dict[str, Any]],
                     data_root_default: str = "dlclab_data_root(..)") -> dict[str, Any]:
    """The TAIGA sub-catalogue of release summaries (:func:`summaries`); the data root
    defaults to ``data_root_default`` (relative to the catalogue's folder)."""
    releases = dict(sorted(releases.items()))
    names = list(releases)
    facilities = sorted({d.get("facility") for summary in releases.values()
                         for d in summary["datasets"].values() if d.get("facility")})
    root = "{data_root}/releases/taiga/{release}"
    facility_options: dict[str, Any] = {"all": None}
    facility_options.update({f: [[["facility", "==", f]]] for f in facilities})
    params = {
        "data_root": _data_root_param(data_root_default),
        "release": _param("ChoiceParameter", options=names,
                          default=_default_release(releases) if releases else None,
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
            "experiment": "taiga", "releases": releases}
    return _catalog(params, data, entries, meta)


def top_catalog(data_root_default: str = "dlclab_data_root(..)") -> dict[str, Any]:
    """The top catalogue: ``kcdc`` and ``taiga`` sub-catalogues below ``{data_root}/catalogs``."""
    params = {"data_root": _data_root_param(data_root_default)}
    entries = {}
    for name, what in (("kcdc", "KASCADE (KCDC) releases"), ("taiga", "TAIGA / Tunka releases")):
        entries[name] = {
            "reader": SUBCATALOG, "output_instance": "intake.readers.entry:Catalog",
            "kwargs": {"path": f"{{data_root}}/catalogs/{name}.yaml",
                       "collaborations": f"{{data_root}}/catalogs/{COLLABORATIONS}",
                       "parameters": {"data_root": "{data_root}"}},
            "metadata": {"description": what}, "user_parameters": {}}
    meta = {"description": "Astroparticle Data Life Cycle Lab: KASCADE (KCDC) and TAIGA data",
            "usage": "cat.kcdc(release=...)['events'].read(); cat.taiga['iact_images'].read()"}
    return _catalog(params, {}, entries, meta)


def subcatalog_of(name: str, releases: dict[str, dict[str, Any]],
                  data_root_default: str = "dlclab_data_root(..)") -> dict[str, Any]:
    """Sub-catalogue ``name`` (``kcdc``, ``taiga``) of release summaries: the one place
    that knows which builder writes which sub-catalogue (the reader merges with it)."""
    builders = {"kcdc": kcdc_catalog_of, "taiga": taiga_catalog_of}
    if name not in builders:
        raise ValueError(f"sub-catalogue {name!r}: expected one of {', '.join(builders)}")
    return builders[name](releases, data_root_default)


def _group_id(group: str) -> int | None:
    """The gid of Unix group ``group`` if it exists (else the data policy sets it later)."""
    import grp

    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        return None


def _private_dir(path: Path, group: str) -> None:
    """Create ``path`` closed to others: 0700 at creation (never open, not for a moment),
    then, where the group exists and we may give it away, group ``group`` with 2750."""
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        if path.is_symlink() or not path.is_dir():
            raise NotADirectoryError(f"{path}: expected the folder of collaboration {group!r}'s "
                                     "catalogues, found something else") from None
        return
    gid = _group_id(group)
    if gid is not None:
        try:
            os.chown(path, -1, gid, follow_symlinks=False)
            os.chmod(path, 0o2750)
        except PermissionError:
            pass  # not root and not a member: the data policy hands it over


def _write_yaml_atomic(doc: dict[str, Any], path: Path, mode: int = 0o644,
                       group: str | None = None) -> None:
    """Write ``doc`` to ``path`` through a temporary file (0600 from its creation) that
    gets ``mode`` (and ``group``, where it exists) before the rename."""
    text = ("# Generated by dlclab.catalog.write_catalogs from the release manifests; "
            "do not edit.\n" + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
            gid = _group_id(group) if group else None
            if gid is not None:
                try:
                    os.fchown(stream.fileno(), -1, gid)
                except PermissionError:
                    pass  # the data policy hands it over
            os.fchmod(stream.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_if_changed(doc: dict[str, Any], path: Path, mode: int = 0o644,
                      group: str | None = None) -> Path:
    new = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)
    if not (path.exists() and path.read_text(encoding="utf-8").split("\n", 1)[-1] == new):
        _write_yaml_atomic(doc, path, mode, group)
    return path


def write_catalogs(releases: Iterable[Manifest | dict | str | os.PathLike], out_dir: str | os.PathLike,
                   ) -> list[Path]:
    """Write ``dlc.yaml``, ``kcdc.yaml`` and ``taiga.yaml`` (public releases) and every
    collaboration's ``collaborations/<group>/{kcdc,taiga}.yaml`` into ``out_dir``.

    ``releases``: ``Manifest`` objects, manifest dicts or release directories. Each file
    is replaced atomically; an unchanged file is not rewritten; a collaboration file whose
    releases are gone is removed. Returns the paths written or kept.
    """
    manifests = [_as_manifest(r) for r in releases]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    public = [m for m in manifests if m.info.access_group is None]
    groups = sorted({m.info.access_group for m in manifests} - {None})
    paths = [_write_if_changed(top_catalog(), out / "dlc.yaml")]
    for name, experiment in SUBCATALOGS.items():
        paths.append(_write_if_changed(
            subcatalog_of(name, summaries(m for m in public if m.experiment == experiment)),
            out / f"{name}.yaml"))
    collab_root = out / COLLABORATIONS
    if groups:
        collab_root.mkdir(exist_ok=True)
    for group in groups:
        folder = collab_root / group
        _private_dir(folder, group)
        for name, experiment in SUBCATALOGS.items():
            mine = [m for m in manifests
                    if m.info.access_group == group and m.experiment == experiment]
            path = folder / f"{name}.yaml"
            if mine:
                # a file three levels below the data root: catalogs/collaborations/<group>/
                doc = subcatalog_of(name, summaries(mine), "dlclab_data_root(../../..)")
                paths.append(_write_if_changed(doc, path, 0o640, group))
            elif path.exists():
                path.unlink()
    if collab_root.is_dir():
        for folder in collab_root.iterdir():
            if folder.name not in groups and folder.is_dir() and not folder.is_symlink():
                for name in SUBCATALOGS:
                    (folder / f"{name}.yaml").unlink(missing_ok=True)
    return paths
