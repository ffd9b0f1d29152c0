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
"""
from __future__ import annotations

from typing import Any

from intake.readers.readers import BaseReader
from intake.readers.user_parameters import BaseUserParameter

from dlclab.catalog.parameters import check_parameters
from dlclab.errors import ParameterError


class SubCatalogReader(BaseReader):
    """Open the sub-catalogue YAML at ``path`` with parameter overrides."""

    output_instance = "intake.readers.entry:Catalog"
    imports = {"intake"}

    def _read(self, path: str, parameters: dict[str, Any] | None = None,
              storage_options: dict | None = None, **forwarded: Any):
        from intake.readers.entry import Catalog

        try:
            cat = Catalog.from_yaml_file(path, **(storage_options or {}))
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{path}: no such catalogue; build the data root (`make data`, `dlclab sample` or "
                "`dlclab convert`) or pass data_root=... pointing at one") from None
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
