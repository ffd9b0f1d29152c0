"""Numpy layouts derived from the Kaitai Struct descriptions (``ksy/*.ksy``).

The ``.ksy`` files are the single source of truth of the TAIGA layouts. This module
reads them (YAML) and builds, for every fixed-size type, a numpy structured dtype with
the same field names, so that a whole file is decoded by one ``np.frombuffer``/
``np.memmap`` instead of object by object. It understands the subset of Kaitai the
TAIGA descriptions use:

* primitive integers ``u1 u2 u4 u8 s1 s2 s4 s8`` and floats ``f4 f8`` (with the
  ``meta/endian`` of the file or an explicit ``le``/``be`` suffix);
* ``contents`` (magic bytes) and ``valid`` (a constant value, e.g. a package size):
  both become checks of the bulk decoder and constants the writers fill in;
* ``repeat: expr`` whose ``repeat-expr`` evaluates to a number, possibly through
  fields fixed by ``valid`` (``(package_size - 9) / 2`` with ``package_size`` valid
  1033 gives 512);
* user types (nested structured dtypes) and types made only of bit fields ``bN``
  (an unsigned integer of the type's size, read in the type's ``bit-endian``; the bit
  fields are extracted with shifts and masks, see :meth:`KsyLayout.bits`).

A field whose size depends on data (``repeat-expr: sample_count``) makes its type
variable-size: :meth:`KsyLayout.prefix_dtype` gives the fixed part before it and the
HiSCORE decoder walks the rest vectorised.
"""
from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from dlclab.errors import FormatError

KSY_PACKAGE = "dlclab.formats.taiga.ksy"
_PRIMITIVES = {"u1": "u1", "u2": "u2", "u4": "u4", "u8": "u8", "s1": "i1", "s2": "i2",
               "s4": "i4", "s8": "i8", "f4": "f4", "f8": "f8"}


class KsyError(ValueError):
    """A ``.ksy`` uses a construct the bulk decoder cannot map (a bug in the description)."""


@dataclass(frozen=True)
class BitField:
    """One bit field of a bit-field type: value = (word >> shift) & mask."""

    name: str
    width: int
    shift: int

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1


@dataclass(frozen=True)
class ValidRange:
    """``valid: {min: .., max: ..}``: checked by the decoder, set by the writer."""

    min: int
    max: int

    def __str__(self) -> str:
        return f"{self.min}..{self.max}"


@dataclass(frozen=True)
class Check:
    """A constant the bulk decoder checks and the writers fill in.

    ``path`` is the field path from the record type (e.g. ``("data", "package_size")``),
    ``offsets`` the byte offset in the record of every repetition of the field, in the
    order of ``values.reshape(n, -1)``; ``package_of`` the package index in the record
    of each repetition.
    """

    path: tuple[str, ...]
    expected: int | bytes | ValidRange
    offsets: tuple[int, ...]
    package_of: tuple[int, ...]
    width: int = 0  # bytes of the field

    @property
    def label(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Violation:
    """One broken :class:`Check` in a file: the one object readers, writers and format
    detection turn into a :class:`~dlclab.errors.FormatError`.

    ``offset`` is the byte offset in the file of the offending field, ``record`` the
    record (a Tunka link, or a package) and ``package`` the DAQ package index."""

    check: Check
    record: int
    offset: int
    package: int
    found: str

    @property
    def expected(self) -> str:
        value = self.check.expected
        return value.hex(" ") if isinstance(value, bytes) else str(value)

    @property
    def what(self) -> str:
        """What is wrong, in words (the field's label and the kind of check)."""
        check = self.check
        if isinstance(check.expected, bytes):
            return f"{check.label}: not a package start (wrong magic)"
        if "size" in check.path[-1]:
            return f"{check.label} disagrees with the layout"
        return f"{check.label} out of the layout's range"

    def error(self, path: Any, message: str | None = None) -> FormatError:
        """The :class:`FormatError` of this violation in file ``path``."""
        return FormatError(path, message or self.what, offset=self.offset, package=self.package,
                           expected=self.expected, found=self.found)


@dataclass
class TypeLayout:
    """The numpy view of one Kaitai type."""

    name: str
    fields: list[dict[str, Any]]
    dtype: np.dtype | None  # None when variable-size
    prefix: np.dtype  # the fixed-size fields before the first variable one
    constants: dict[str, int | bytes] = field(default_factory=dict)
    bit_fields: tuple[BitField, ...] = ()
    docs: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def fixed(self) -> bool:
        return self.dtype is not None


_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.floordiv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
           ast.LShift: operator.lshift, ast.RShift: operator.rshift}


class _Unresolved(Exception):
    pass


def evaluate(expr: Any, env: dict[str, int]) -> int:
    """Evaluate an integer Kaitai expression; names must be constants in ``env``.

    Kaitai's ``/`` on integers is integer division. Raises ``_Unresolved`` when a name
    is not a constant (the size then depends on data)."""
    if isinstance(expr, int):
        return expr

    def ev(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in env and isinstance(env[node.id], int):
                return int(env[node.id])
            raise _Unresolved(node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        raise KsyError(f"unsupported expression {expr!r}")

    return ev(ast.parse(str(expr), mode="eval"))


class KsyLayout:
    """Numpy structured dtypes and checks of one ``.ksy`` file."""

    def __init__(self, ksy: dict[str, Any], source: str = "<ksy>") -> None:
        self.ksy = ksy
        self.source = source
        meta = ksy.get("meta", {})
        self.id: str = meta["id"]
        self.endian: str = meta.get("endian", "le")
        self.bit_endian: str = meta.get("bit-endian", "be")
        self._types_yaml: dict[str, Any] = ksy.get("types", {})
        self.types: dict[str, TypeLayout] = {}
        records = [a for a in ksy.get("seq", []) if a.get("-dlclab-record")]
        if len(records) != 1 or records[0].get("repeat") != "eos":
            raise KsyError(f"{source}: need exactly one top-level '-dlclab-record' field with repeat: eos")
        self.record_field: str = records[0]["id"]
        self.record_type_name: str = records[0]["type"]
        self.record = self.type(self.record_type_name)
        self.checks: tuple[Check, ...] = tuple(self._checks(self.record, (), 0)) if self.record.fixed else ()

    # -- compilation -------------------------------------------------------------------
    def type(self, name: str) -> TypeLayout:
        """The layout of the Kaitai type ``name`` (compiled once)."""
        if name not in self.types:
            if name not in self._types_yaml:
                raise KsyError(f"{self.source}: unknown type {name!r}")
            self.types[name] = self._compile(name, self._types_yaml[name])
        return self.types[name]

    def _primitive(self, kaitai_type: str, type_meta: dict[str, Any]) -> np.dtype:
        base, suffix = kaitai_type[:2], kaitai_type[2:]
        endian = suffix or type_meta.get("endian", self.endian)
        order = "<" if endian == "le" else ">"
        return np.dtype(order + _PRIMITIVES[base])

    def _compile(self, name: str, spec: dict[str, Any]) -> TypeLayout:
        type_meta = spec.get("meta", {})
        seq = spec.get("seq", [])
        kinds = [str(a.get("type", "")) for a in seq]
        is_bits = [k[:1] == "b" and k[1:].rstrip("bel").isdigit() for k in kinds]
        if any(is_bits):
            if not all(is_bits):
                raise KsyError(f"{self.source}: type {name!r} mixes bit fields with other fields; "
                               "put the bit fields in a type of their own")
            return self._compile_bits(name, spec, type_meta)
        names: list[str] = []
        formats: list[Any] = []
        constants: dict[str, int | bytes] = {}
        docs: dict[str, str] = {}
        metadata: dict[str, str] = {}
        env: dict[str, int] = {}
        variable = False
        prefix: np.dtype | None = None
        for attr in seq:
            fid = attr["id"]
            docs[fid] = str(attr.get("doc", "")).strip()
            if "-dlclab-metadata" in attr:
                metadata[fid] = attr["-dlclab-metadata"]
            if "contents" in attr:
                raw = attr["contents"]
                value = bytes(raw) if isinstance(raw, list) else str(raw).encode()
                element: Any = np.dtype(("u1", (len(value),)))
                constants[fid] = value
            elif "type" in attr:
                kaitai_type = str(attr["type"])
                if kaitai_type[:2] in _PRIMITIVES:
                    element = self._primitive(kaitai_type, type_meta)
                else:
                    sub = self.type(kaitai_type)
                    if not sub.fixed:
                        variable = True
                    element = sub.dtype
            elif "size" in attr:
                element = np.dtype(("u1", (evaluate(attr["size"], env),)))
            else:
                raise KsyError(f"{self.source}: field {name}.{fid} has neither type, size nor contents")
            if "valid" in attr:
                valid = attr["valid"]
                if isinstance(valid, dict) and set(valid) <= {"min", "max"}:
                    constants[fid] = ValidRange(int(valid.get("min", 0)), int(valid["max"]))
                else:
                    valid = valid.get("eq") if isinstance(valid, dict) else valid
                    if not isinstance(valid, int):
                        raise KsyError(f"{self.source}: unsupported 'valid' of {name}.{fid}")
                    constants[fid] = valid
                    env[fid] = valid
            count = None
            if attr.get("repeat") == "expr":
                try:
                    count = evaluate(attr["repeat-expr"], env)
                except _Unresolved:
                    variable = True
            elif "repeat" in attr:
                raise KsyError(f"{self.source}: repeat {attr['repeat']!r} inside {name}.{fid}")
            if variable:
                if prefix is None:
                    prefix = np.dtype({"names": names[:], "formats": formats[:]})
                continue
            names.append(fid)
            formats.append((element, (count,)) if count is not None else element)
        dtype = None if variable else np.dtype({"names": names, "formats": formats})
        if prefix is None:
            prefix = dtype
        return TypeLayout(name, seq, dtype, prefix, constants, (), docs, metadata)

    def _compile_bits(self, name: str, spec: dict[str, Any], type_meta: dict[str, Any]) -> TypeLayout:
        widths: list[tuple[str, int, str]] = []
        for attr in spec["seq"]:
            kind = str(attr["type"])
            order = kind[-2:] if kind.endswith(("le", "be")) else type_meta.get("bit-endian", self.bit_endian)
            widths.append((attr["id"], int(kind[1:].rstrip("bel")), order))
        orders = {w[2] for w in widths}
        total = sum(w[1] for w in widths)
        if len(orders) != 1 or total not in (8, 16, 32, 64):
            raise KsyError(f"{self.source}: bit-field type {name!r} must fill 1, 2, 4 or 8 bytes "
                           "in one bit order")
        order = orders.pop()
        # Kaitai's big-endian bit order reads the most significant bit of the first byte
        # first: the same as a big-endian integer read from the most significant bit.
        # Little-endian bit order starts at the least significant bit of a little-endian
        # integer.
        dtype = np.dtype(("<" if order == "le" else ">") + f"u{total // 8}")
        fields, used = [], 0
        for fid, width, _ in widths:
            shift = used if order == "le" else total - used - width
            fields.append(BitField(fid, width, shift))
            used += width
        docs = {a["id"]: str(a.get("doc", "")).strip() for a in spec["seq"]}
        metadata = {a["id"]: a["-dlclab-metadata"] for a in spec["seq"] if "-dlclab-metadata" in a}
        return TypeLayout(name, spec["seq"], dtype, dtype, {}, tuple(fields), docs, metadata)

    # -- checks ------------------------------------------------------------------------
    def _checks(self, layout: TypeLayout, path: tuple[str, ...], base: int,
                package: int | None = None):
        """Every contents/valid constant of a fixed type, with the byte offsets of its
        repetitions in the record (depth first, in file order)."""
        assert layout.dtype is not None
        per_field = self._package_index_of_fields(layout) if package is None else None
        for fid in layout.dtype.names or ():
            sub, off = layout.dtype.fields[fid][:2]
            raw_bytes = isinstance(layout.constants.get(fid), bytes)
            reps = 1 if raw_bytes or not sub.shape else int(np.prod(sub.shape))
            offsets = [base + off + i * sub.base.itemsize for i in range(reps)]
            if per_field is not None:
                pk = per_field[fid]
                packages = list(pk) if isinstance(pk, tuple) else [pk] * reps
            else:
                packages = [package] * reps
            if fid in layout.constants:
                value = layout.constants[fid]
                width = len(value) if isinstance(value, bytes) else sub.base.itemsize
                yield Check(path + (fid,), value, tuple(offsets), tuple(packages), width)
            attr = next(a for a in layout.fields if a["id"] == fid)
            kaitai_type = str(attr.get("type", ""))
            if kaitai_type and kaitai_type[:2] not in _PRIMITIVES:
                sub_layout = self.type(kaitai_type)
                if sub_layout.bit_fields:
                    continue
                # a repeated sub-structure: one set of checks per repetition, merged
                per_rep = [list(self._checks(sub_layout, path + (fid,), offsets[i], packages[i]))
                           for i in range(reps)]
                for j, first in enumerate(per_rep[0]):
                    yield Check(first.path, first.expected,
                                tuple(o for rep in per_rep for o in rep[j].offsets),
                                tuple(p for rep in per_rep for p in rep[j].package_of), first.width)

    def _package_index_of_fields(self, layout: TypeLayout) -> dict[str, Any]:
        """Package index within the record of each top-level field.

        A record made only of packages (a Tunka link: 32 data packages + info) counts
        its sub-structures; any other record is one package (index 0)."""
        assert layout.dtype is not None
        structs = all(layout.dtype.fields[f][0].base.names for f in layout.dtype.names)
        result: dict[str, Any] = {}
        counter = 0
        for fid in layout.dtype.names:
            sub = layout.dtype.fields[fid][0]
            reps = int(np.prod(sub.shape)) if sub.shape else 1
            if structs:
                result[fid] = tuple(range(counter, counter + reps))
                counter += reps
            else:
                result[fid] = 0
        return result

    @property
    def packages_per_record(self) -> int:
        """Packages in one record (33 for a Tunka-133 link, 1 for an IACT package)."""
        if not self.record.fixed:
            return 1
        per_field = self._package_index_of_fields(self.record)
        return max((max(v) + 1 if isinstance(v, tuple) else 1) for v in per_field.values())

    def package_offsets(self) -> list[tuple[int, int]]:
        """(package index, byte offset) of every package start within one record."""
        assert self.record.dtype is not None
        per_field = self._package_index_of_fields(self.record)
        starts: dict[int, int] = {}
        for fid, pkgs in per_field.items():
            sub, off = self.record.dtype.fields[fid][:2]
            for i, p in enumerate(pkgs if isinstance(pkgs, tuple) else (pkgs,)):
                starts.setdefault(p, off + i * sub.base.itemsize)
        return sorted(starts.items())

    def metadata_fields(self) -> dict[str, list[tuple[str, ...]]]:
        """Catalogue attribute -> field paths in the record marked ``-dlclab-metadata``.

        For the extractor: e.g. ``{"event_number": [("info", "event_number")], ...}``."""
        found: dict[str, list[tuple[str, ...]]] = {}

        def walk(type_name: str, path: tuple[str, ...]) -> None:
            layout = self.type(type_name)
            for attr in layout.fields:
                fid = attr["id"]
                if "-dlclab-metadata" in attr:
                    found.setdefault(attr["-dlclab-metadata"], []).append(path + (fid,))
                kind = str(attr.get("type", ""))
                if kind and kind[:2] not in _PRIMITIVES and not kind[1:].rstrip("bel").isdigit():
                    walk(kind, path + (fid,))

        walk(self.record_type_name, ())
        return found

    # -- values ------------------------------------------------------------------------
    def bits(self, type_name: str, words: np.ndarray, name: str) -> np.ndarray:
        """The bit field ``name`` of the bit-field type ``type_name`` from its words."""
        for bit in self.type(type_name).bit_fields:
            if bit.name == name:
                return ((np.asarray(words).astype(np.uint64) >> np.uint64(bit.shift))
                        & np.uint64(bit.mask))
        raise KsyError(f"{self.source}: type {type_name!r} has no bit field {name!r}")

    def pack_bits(self, type_name: str, **values: Any) -> np.ndarray:
        """Words of the bit-field type ``type_name`` from its field values (missing = 0)."""
        layout = self.type(type_name)
        word = np.uint64(0)
        for bit in layout.bit_fields:
            value = np.asarray(values.pop(bit.name, 0)).astype(np.uint64)
            if np.any(value > bit.mask):
                raise ValueError(f"{type_name}.{bit.name} must fit in {bit.width} bits")
            word = word | (value << np.uint64(bit.shift))
        if values:
            raise KsyError(f"{type_name} has no bit fields {sorted(values)}")
        return np.asarray(word).astype(layout.dtype)

    def fill_constants(self, records: np.ndarray) -> None:
        """Write every contents/valid constant into ``records`` (for the writers)."""
        raw = records.view(np.uint8).reshape(len(records), -1)
        for check in self.checks:
            value = check.expected
            if isinstance(value, ValidRange):
                continue  # a range is the writer's to choose
            data = (np.frombuffer(value, np.uint8) if isinstance(value, bytes)
                    else np.frombuffer(np.array(value, dtype=self._field_dtype(check.path)).tobytes(),
                                       np.uint8))
            for off in check.offsets:
                raw[:, off:off + len(data)] = data

    def _field_dtype(self, path: tuple[str, ...]) -> np.dtype:
        dtype = self.record.dtype
        assert dtype is not None
        for part in path:
            dtype = dtype.fields[part][0].base
        return dtype

    def first_bad_record(self, records: np.ndarray) -> tuple[int, Check, int] | None:
        """The first record violating a check: (record index, check, repetition), or None.

        One vectorised comparison per check (all repetitions at once)."""
        if len(records) == 0:
            return None
        raw = records.view(np.uint8).reshape(len(records), -1)
        best: tuple[int, int, Check, int] | None = None  # (record, offset, check, rep)
        for check in self.checks:
            offsets = np.asarray(check.offsets)
            if isinstance(check.expected, bytes):
                expected = np.frombuffer(check.expected, np.uint8)
                cols = offsets[:, None] + np.arange(len(expected))
                bad = np.any(raw[:, cols] != expected, axis=2)
            else:
                dtype = self._field_dtype(check.path)
                cols = offsets[:, None] + np.arange(dtype.itemsize)
                values = np.ascontiguousarray(raw[:, cols]).view(dtype)[..., 0]
                if isinstance(check.expected, ValidRange):
                    bad = (values < check.expected.min) | (values > check.expected.max)
                else:
                    bad = values != check.expected
            if not bad.any():
                continue
            flat = int(np.argmax(bad.reshape(-1)))
            rec, rep = divmod(flat, bad.shape[1])
            key = (rec, int(offsets[rep]))
            if best is None or key < best[:2]:
                best = (rec, int(offsets[rep]), check, rep)
        return None if best is None else (best[0], best[2], best[3])

    def valid_range(self, field_name: str) -> ValidRange:
        """The ``valid: {min, max}`` range the ``.ksy`` declares for ``field_name``."""
        for check in self.checks:
            if check.path[-1] == field_name and isinstance(check.expected, ValidRange):
                return check.expected
        raise KsyError(f"{self.source}: no valid range declared for {field_name!r}")

    def first_violation(self, records: np.ndarray, first_record: int = 0) -> Violation | None:
        """The first layout violation among ``records`` as a :class:`Violation` (where in
        the file, which package, what was expected and found), or None.

        ``first_record`` is the index in the file of ``records[0]`` (for chunks)."""
        problem = self.first_bad_record(records)
        if problem is None:
            return None
        index, check, rep = problem
        raw = records[index:index + 1].view(np.uint8)
        start = check.offsets[rep]
        if isinstance(check.expected, bytes):
            found = raw[start:start + len(check.expected)].tobytes().hex(" ")
        else:
            dtype = self._field_dtype(check.path)
            found = str(int(raw[start:start + dtype.itemsize].view(dtype)[0]))
        record = first_record + index
        return Violation(check=check, record=record,
                         offset=record * self.record.dtype.itemsize + start,
                         package=record * self.packages_per_record + check.package_of[rep],
                         found=found)



@lru_cache(maxsize=None)
def load(format_name: str) -> KsyLayout:
    """The layout of a TAIGA format from its packaged ``ksy/<format>.ksy``."""
    text = resources.files(KSY_PACKAGE).joinpath(f"{format_name}.ksy").read_text()
    return KsyLayout(yaml.safe_load(text), source=f"{format_name}.ksy")


def ksy_path(format_name: str):
    """Path of the packaged ``.ksy`` of a format (for the Kaitai oracle and docs)."""
    return resources.files(KSY_PACKAGE).joinpath(f"{format_name}.ksy")
