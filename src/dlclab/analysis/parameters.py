"""Declared notebook parameters and their validation before a run.

An analysis notebook declares its parameters in the metadata of the cell tagged
``parameters``::

    "metadata": {"tags": ["parameters"],
                 "dlclab": {"parameters": {
                     "n_epochs": {"type": "integer", "minimum": 1, "maximum": 200,
                                  "description": "training epochs of both CNNs"},
                     ...}}}

Each entry is a JSON-Schema property (type, minimum/maximum, enum, description, default
read from the cell itself). :func:`validate` checks user values against it and raises
:class:`~dlclab.errors.ParameterError` naming the parameter, the value and what is allowed.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from dlclab.errors import ParameterError

_TYPES = {"integer": int, "number": (int, float), "string": str, "boolean": bool, "array": list}


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    schema: dict
    default: object

    def describe(self) -> str:
        s = self.schema
        rng = ""
        if "minimum" in s or "maximum" in s:
            rng = f" in [{s.get('minimum', '-inf')}, {s.get('maximum', 'inf')}]"
        if "enum" in s:
            rng = f" one of {s['enum']}"
        return f"{self.name} ({s.get('type', 'any')}{rng}, default {self.default!r}): {s.get('description', '')}"


def _parameters_cell(nb: dict, path: Path) -> dict:
    for cell in nb.get("cells", []):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    raise ParameterError(f"{path}: no cell tagged 'parameters'; it cannot be run with parameters")


def _defaults(source: str) -> dict:
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    try:
                        out[t.id] = ast.literal_eval(node.value)
                    except ValueError:
                        out[t.id] = None
    return out


def declared_parameters(notebook: str | Path) -> dict[str, ParameterSpec]:
    """The parameter schema of a notebook, with defaults read from its parameters cell."""
    import nbformat

    path = Path(notebook)
    nb = nbformat.read(path, as_version=4)
    cell = _parameters_cell(nb, path)
    schema = cell.get("metadata", {}).get("dlclab", {}).get("parameters")
    if not schema:
        raise ParameterError(f"{path}: the parameters cell declares no schema (metadata.dlclab.parameters)")
    defaults = _defaults("".join(cell["source"]))
    missing = sorted(set(defaults) - set(schema))
    if missing:
        raise ParameterError(f"{path}: parameters {missing} have no declared schema")
    return {name: ParameterSpec(name, spec, defaults.get(name)) for name, spec in schema.items()}


def coerce(spec: ParameterSpec, value: object) -> object:
    """Turn a command-line string into the declared type (ints, floats, bools, JSON lists)."""
    if not isinstance(value, str):
        return value
    t = spec.schema.get("type")
    try:
        if t == "integer":
            return int(value)
        if t == "number":
            return float(value)
        if t == "boolean":
            if value.lower() in ("true", "1", "yes"):
                return True
            if value.lower() in ("false", "0", "no"):
                return False
            raise ValueError(value)
        if t == "array":
            import json
            return json.loads(value)
    except ValueError:
        raise ParameterError(f"parameter {spec.name!r}: {value!r} is not a valid {t}") from None
    return value


def validate(notebook: str | Path, values: dict[str, object]) -> dict[str, object]:
    """Check user parameters against the declared schema; returns the typed values.

    Unknown names, wrong types and out-of-range values are refused with a message that
    names the parameter and what it accepts, before anything executes.
    """
    import jsonschema

    specs = declared_parameters(notebook)
    typed: dict[str, object] = {}
    for name, value in values.items():
        if name not in specs:
            known = ", ".join(sorted(specs))
            raise ParameterError(f"{Path(notebook).name}: unknown parameter {name!r} (declared: {known})")
        spec = specs[name]
        v = coerce(spec, value)
        if spec.schema.get("type") == "integer" and isinstance(v, bool):
            raise ParameterError(f"parameter {name!r}: {v!r} is not an integer")
        try:
            jsonschema.validate(v, {k: x for k, x in spec.schema.items() if k != "description"})
        except jsonschema.ValidationError as exc:
            raise ParameterError(f"{Path(notebook).name}: parameter {name!r} = {v!r} refused: {exc.message}; "
                                 f"expected {spec.describe()}") from None
        typed[name] = v
    return typed
