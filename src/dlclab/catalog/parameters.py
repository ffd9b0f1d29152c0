"""Validated Intake 2 user parameters of the lab's catalogues.

The catalogue YAML names these classes under ``cls:`` so that Intake re-creates them
when it loads the file (``Catalog.to_yaml_file`` would drop ``cls:``; our writer keeps
it). A value outside a parameter's choices raises :class:`dlclab.errors.ParameterError`
whose message lists the valid choices::

    >>> cat.kcdc(release="VOYAGER")
    ParameterError: release 'VOYAGER' is not available; valid releases: NABOO, OCEANUS, ...

Importing this module also registers the URL template ``dlclab_data_root(...)``: the
default of a ``data_root`` parameter that resolves, when the catalogue is opened,

* ``dlclab_data_root(..)`` -> the directory above the catalogue file (a generated
  catalogue lives in ``<data root>/catalogs/``), the same for a local path, a shared
  mount or an object-store URL (``s3://bucket/dlc/catalogs`` -> ``s3://bucket/dlc``);
* ``dlclab_data_root(config)`` -> :func:`dlclab.config.data_root` (``$DLCLAB_DATA_ROOT``
  or the checkout's ``data/``), for the checked-in ``catalogs/dlc.yaml``.
"""
from __future__ import annotations

import copy
import os
import posixpath
import re
from typing import Any

from intake.readers.user_parameters import BaseUserParameter, register_template

from dlclab.errors import ParameterError

_PROTOCOL = re.compile(r"^(?P<protocol>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<rest>.*)$")


def _copy_with(param: BaseUserParameter, default: Any) -> BaseUserParameter:
    new = copy.copy(param)
    new.default = default
    return new


class ChoiceParameter(BaseUserParameter):
    """One string out of ``options``; anything else is refused with the list of options."""

    def __init__(self, options: list[str], default: str, description: str = "",
                 name: str = "value") -> None:
        super().__init__(default=default, description=description)
        self.options = list(options)
        self.name = name
        # no options, no default: a catalogue that lists nothing (yet) for this user,
        # e.g. TAIGA for someone outside the collaboration; every value is refused
        if default not in self.options and (self.options or default is not None):
            raise ParameterError(self._message(default))

    def _message(self, value: Any) -> str:
        return (f"{self.name} {value!r} is not available; valid {self.name}s: "
                f"{', '.join(map(str, self.options)) or 'none'}")

    def _validate(self, value: Any) -> bool:
        return value in self.options

    def set_default(self, value: Any) -> None:
        if not self._validate(value):
            raise ParameterError(self._message(value))
        self.default = value

    def with_default(self, value: Any) -> BaseUserParameter:
        if not self._validate(value):
            raise ParameterError(self._message(value))
        return _copy_with(self, value)


class NamedChoiceParameter(ChoiceParameter):
    """A named choice that stands for a value: ``component="array"`` stands for the list
    of the array component's columns. ``default`` holds the *value* of the default
    choice (Intake substitutes the default as it is); ``default_name`` its name."""

    def __init__(self, options: dict[str, Any], default_name: str, description: str = "",
                 name: str = "value") -> None:
        BaseUserParameter.__init__(self, default=options[default_name], description=description)
        self.options = dict(options)
        self.default_name = default_name
        self.name = name

    def _message(self, value: Any) -> str:
        return (f"{self.name} {value!r} is not available; valid {self.name}s: "
                f"{', '.join(self.options)}")

    def _validate(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.options

    def set_default(self, value: Any) -> None:
        if not self._validate(value):
            raise ParameterError(self._message(value))
        self.default = self.options[value]

    def with_default(self, value: Any) -> BaseUserParameter:
        if not self._validate(value):
            raise ParameterError(self._message(value))
        new = _copy_with(self, self.options[value])
        new.default_name = value
        return new


class FilterChoiceParameter(NamedChoiceParameter):
    """A named row selection: each option is a filter in disjunctive normal form
    (``[[["facility", "==", "tunka133"]]]``, an OR of ANDs) or null for all rows.

    YAML has no tuples, but dask (unlike pyarrow) wants each predicate as a tuple: the
    chosen filter is handed out as ``list[list[tuple]]``, which both accept."""

    @staticmethod
    def as_dnf(value: Any) -> Any:
        if value is None:
            return None
        return [[tuple(pred) for pred in group] for group in value]

    def with_default(self, value: Any) -> BaseUserParameter:
        new = super().with_default(value)
        new.default = self.as_dnf(new.default)
        return new


class DataRootParameter(BaseUserParameter):
    """Where the data root is: a local path, a shared mount or an fsspec URL
    (``file:///srv/dlc``, ``s3://bucket/dlc``). The default is a ``dlclab_data_root(...)``
    template resolved when the catalogue is opened (see the module docstring)."""

    def __init__(self, default: str = "dlclab_data_root(..)", description: str = "") -> None:
        super().__init__(default=default, description=description or
                         "data root: local path, shared mount or fsspec URL (file://, s3://, ...)")

    @staticmethod
    def normalise(value: Any) -> str:
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str) or not value.strip():
            raise ParameterError(f"data_root {value!r}: expected a path or URL")
        value = value.strip()
        m = _PROTOCOL.match(value)
        if m:
            return m["protocol"] + (posixpath.normpath(m["rest"]) if m["rest"] else "")
        return os.path.abspath(os.path.expanduser(value))

    def _validate(self, value: Any) -> bool:
        self.normalise(value)
        return True

    def set_default(self, value: Any) -> None:
        self.default = self.normalise(value)

    def with_default(self, value: Any) -> BaseUserParameter:
        return _copy_with(self, self.normalise(value))


def _resolve_data_root(spec: str, catalog_dir: str | None) -> str:
    spec = spec.strip()
    if spec == "config":
        from dlclab import config

        return str(config.data_root().resolve())
    if catalog_dir is None:
        raise ParameterError(f"dlclab_data_root({spec}): the catalogue's location is unknown; "
                             "pass data_root=...")
    m = _PROTOCOL.match(catalog_dir)
    if m and m["protocol"] == "file://":
        return os.path.normpath(os.path.join(m["rest"], spec))
    if m:
        return m["protocol"] + posixpath.normpath(posixpath.join(m["rest"], spec))
    return os.path.normpath(os.path.join(catalog_dir, spec))


@register_template("dlclab_data_root")
def dlclab_data_root(match: re.Match, up: dict[str, Any]) -> str:
    """Template ``dlclab_data_root(..|config)``, see the module docstring."""
    catalog_dir = up.get("CATALOG_DIR")
    if isinstance(catalog_dir, BaseUserParameter):
        catalog_dir = catalog_dir.default
    return _resolve_data_root(match.groups()[0], catalog_dir)


def check_parameters(user_parameters: dict[str, Any], values: dict[str, Any], where: str) -> None:
    """Validate ``values`` against a catalogue's user parameters, now rather than at read
    time: unknown names and invalid values raise :class:`ParameterError`."""
    known = {k: v for k, v in user_parameters.items()
             if isinstance(v, BaseUserParameter) and not k.isupper()}
    for name, value in values.items():
        if name not in known:
            raise ParameterError(f"{where} has no parameter {name!r}; parameters: "
                                 f"{', '.join(sorted(known)) or 'none'}")
        known[name].with_default(value)
