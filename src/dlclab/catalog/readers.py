"""Intake 2 reader of a sub-catalogue (``kcdc``, ``taiga`` in the top catalogue).

Reading the entry gives the sub-catalogue (an ``intake.entry.Catalog``). Parameters
pass down two ways:

* explicitly, ``top.kcdc(release="OCEANUS")``: checked at once against the
  sub-catalogue's parameters (unknown names and invalid values raise
  :class:`~dlclab.errors.ParameterError` listing the valid ones);
* from the top catalogue, ``top(data_root=...)``: the top's ``data_root`` is forwarded;
  any other top-level override reaches every sub-catalogue and is applied where that
  sub-catalogue has the parameter and the value is valid (``dlclab.catalog(release=
  "OCEANUS")`` selects the KASCADE release and leaves TAIGA alone).

``top.kcdc["events"]`` is a shortcut for ``top.kcdc.read()["events"]``.

A sub-catalogue is the public file (``catalogs/taiga.yaml``) merged with every
collaboration's file of the same name the user can read
(``catalogs/collaborations/<group>/taiga.yaml``, readable by the group only): a member
of the TAIGA collaboration sees its internal releases, anyone else does not (the files
they cannot read are simply left out, no error).
"""
from __future__ import annotations

import posixpath
from typing import Any

import fsspec
import yaml
from intake.readers.readers import BaseReader
from intake.readers.user_parameters import BaseUserParameter

from dlclab.catalog.parameters import check_parameters
from dlclab.errors import ParameterError


class SubCatalogReader(BaseReader):
    """Open the sub-catalogue YAML at ``path`` with parameter overrides."""

    output_instance = "intake.readers.entry:Catalog"
    imports = {"intake"}

    def _read(self, path: str, parameters: dict[str, Any] | None = None,
              storage_options: dict | None = None, collaborations: str | None = None,
              **forwarded: Any):
        cat = open_subcatalog(path, collaborations, storage_options or {})
        explicit = dict(parameters or {})
        check_parameters(cat.user_parameters, explicit, where=f"catalogue {path}")
        for name, value in forwarded.items():
            up = cat.user_parameters.get(name)
            if name in explicit or not isinstance(up, BaseUserParameter):
                continue
            try:
                up.with_default(value)
            except (ParameterError, ValueError, TypeError):
                continue
            explicit[name] = value
        return cat(**explicit) if explicit else cat

    def __call__(self, *args: Any, **parameters: Any) -> SubCatalogReader:
        """The same sub-catalogue with user parameters set (validated now)."""
        if args:
            raise TypeError("sub-catalogue parameters are keywords: cat.kcdc(release='OCEANUS')")
        kw = dict(self.kwargs)
        merged = dict(kw.get("parameters") or {})
        merged.update(parameters)
        kw["parameters"] = merged
        new = type(self)(metadata=self.metadata, **kw)
        new.read()  # validate against the sub-catalogue's parameters now
        return new

    def __getitem__(self, item: str):
        return self.read()[item]

    def __iter__(self):
        return iter(self.read())

    def __repr__(self) -> str:
        params = self.kwargs.get("parameters") or {}
        shown = {k: v for k, v in params.items() if k != "data_root"}
        return f"sub-catalogue {self.kwargs.get('path')}" + (f" with {shown}" if shown else "")


def _load_yaml(fs, path: str) -> dict[str, Any]:
    with fs.open(path, "rb") as stream:
        return yaml.safe_load(stream)


def collaboration_releases(collaborations: str, name: str,
                           storage_options: dict | None = None) -> dict[str, dict[str, Any]]:
    """``{release: summary}`` of the collaboration files ``<collaborations>/<group>/<name>``
    this process may read. Unreadable (another collaboration's) or missing ones, and a
    data root that cannot be listed (an HTTP mirror), give nothing."""
    try:
        fs, root = fsspec.core.url_to_fs(collaborations, **(storage_options or {}))
        folders = sorted(entry["name"] for entry in fs.ls(root, detail=True)
                         if entry.get("type") == "directory")
    except OSError:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for folder in folders:
        try:
            doc = _load_yaml(fs, posixpath.join(folder, name))
        except OSError:  # PermissionError: not a member; FileNotFoundError: nothing for it
            continue
        out.update((doc.get("metadata") or {}).get("releases") or {})
    return out


def open_subcatalog(path: str, collaborations: str | None = None,
                    storage_options: dict | None = None):
    """The sub-catalogue at ``path`` merged with the readable collaboration files (see
    the module docstring), as an ``intake.entry.Catalog``."""
    from intake.readers.entry import Catalog

    from dlclab.catalog.writer import subcatalog_of

    storage_options = storage_options or {}
    of = fsspec.open(path, **storage_options)
    try:
        doc = _load_yaml(of.fs, of.path)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path}: no such catalogue; build the data root (`make data`, `dlclab sample` or "
            "`dlclab convert`) or pass data_root=... pointing at one") from None
    extra = collaboration_releases(collaborations, posixpath.basename(of.path),
                                   storage_options) if collaborations else {}
    if extra:
        name = posixpath.splitext(posixpath.basename(of.path))[0]
        data_root_default = doc["user_parameters"]["data_root"]["default"]
        doc = subcatalog_of(name, {**doc["metadata"]["releases"], **extra}, data_root_default)
    cat = Catalog.from_dict(doc)
    # what Catalog.from_yaml_file records: templates resolve relative to the public file
    cat.user_parameters["CATALOG_PATH"] = path
    cat.user_parameters["CATALOG_DIR"] = of.fs.unstrip_protocol(of.fs._parent(of.path))
    cat.user_parameters["STORAGE_OPTIONS"] = storage_options
    return cat
