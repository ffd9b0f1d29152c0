"""The lab's Intake 2 catalogues: writer, validated parameters, and the opener behind
:func:`dlclab.catalog`.

>>> import dlclab
>>> cat = dlclab.catalog()                                  # no paths to know
>>> df = cat.kcdc(release="OCEANUS", component="array")["events"].read()
>>> images = cat.taiga["iact_images"].read()                # xarray.Dataset
"""
from __future__ import annotations

from typing import Any

from dlclab.catalog.writer import write_catalogs

__all__ = ["open_lab_catalog", "write_catalogs"]


def open_lab_catalog(path: str | None = None, **params: Any):
    """Open the top catalogue (``dlclab.config.catalog_path()`` unless ``path`` is given).

    ``params`` are user parameters: ``data_root`` of the top catalogue, or a parameter of
    a sub-catalogue (``release=...``), which is checked now and applied to every
    sub-catalogue where it is valid. A value no catalogue accepts raises
    :class:`~dlclab.errors.ParameterError` listing the valid values.
    """
    import intake

    from dlclab import config
    from dlclab.catalog.parameters import check_parameters
    from dlclab.errors import ParameterError

    path = str(path or config.catalog_path())
    top = intake.entry.Catalog.from_yaml_file(path)
    top_params = {k: v for k, v in params.items() if k in top.user_parameters}
    check_parameters(top.user_parameters, top_params, where=f"catalogue {path}")
    cat = top(**top_params) if top_params else top
    forwarded = {k: v for k, v in params.items() if k not in top_params}
    if not forwarded:
        return cat
    refusals = []
    for name in cat:
        sub = cat[name].read()
        try:
            check_parameters(sub.user_parameters, forwarded, where=f"sub-catalogue {name!r}")
            return cat(**forwarded)
        except ParameterError as exc:
            refusals.append(str(exc))
    raise ParameterError("no sub-catalogue accepts " + ", ".join(f"{k}={v!r}" for k, v in forwarded.items())
                         + ": " + "; ".join(refusals))


class _CallableModule(__import__("types").ModuleType):
    """Importing this package binds ``dlclab.catalog`` to the package, shadowing the
    function :func:`dlclab.catalog` of ``dlclab/__init__.py`` (Intake imports
    ``dlclab.catalog.parameters`` as soon as it loads a catalogue). Calling the package
    does what the function does, so ``dlclab.catalog()`` works either way."""

    def __call__(self, **user_parameters: Any):
        return open_lab_catalog(**user_parameters)


__import__("sys").modules[__name__].__class__ = _CallableModule
