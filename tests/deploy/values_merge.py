"""Merge values files the way helm does, and validate the result against a chart schema."""
from __future__ import annotations

import copy
from typing import Any

import jsonschema


def merge_values(base: Any, override: Any) -> Any:
    """helm's coalescing: maps merge key by key, anything else replaces; ``null`` deletes."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return copy.deepcopy(override)
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def schema_errors(values: dict, schema: dict) -> list[str]:
    """Every schema violation as ``path: message`` (empty when valid)."""
    validator = jsonschema.Draft7Validator(schema)
    return sorted(
        f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(values)
    )
