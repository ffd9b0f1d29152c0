"""Selection cuts like the KCDC DataShop's: ``E>1e15``, ``Ze<18``, ``1e15<=E<1e16``.

Grammar (spaces allowed anywhere)::

    cut     := name op value | value op name | value op name op value
    name    := quantity | component "." quantity        (Ze, grande.Ze, E_true)
    op      := "<" | "<=" | ">" | ">="                  (a range uses one direction)
    value   := float | "10^" float | "10**" float       (1e15, 10^15.7)

Values are in the quantity's unit (E in eV, Ze in degrees, Xc in metres) and always
linear, whatever an export stores. An unqualified name is looked up in the array
component first (see :data:`dlclab.formats.kcdc.quantities.RESOLUTION_ORDER`).

A parsed :class:`Cut` applies to a pandas DataFrame (:meth:`Cut.mask`), to a set of
component tables with a shared row order (:func:`mask_tables`), or becomes a
``pyarrow.compute`` expression for Parquet filter push-down (:meth:`Cut.to_arrow_expression`).
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from dlclab.errors import CutError
from dlclab.formats.kcdc.quantities import COMPONENTS, RESOLUTION_ORDER, Quantity, resolve

_NAME = r"(?P<{}>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)?)"
_NUM = r"(?P<{}>[^<>=!]+?)"
_OP = r"(?P<{}>[<>=!]=?|=>|=<)"
_PATTERNS = [
    re.compile(r"^\s*{}\s*{}\s*{}\s*{}\s*{}\s*$".format(
        _NUM.format("v1"), _OP.format("op1"), _NAME.format("name"), _OP.format("op2"), _NUM.format("v2"))),
    re.compile(r"^\s*{}\s*{}\s*{}\s*$".format(_NAME.format("name"), _OP.format("op1"), _NUM.format("v1"))),
    re.compile(r"^\s*{}\s*{}\s*{}\s*$".format(_NUM.format("v1"), _OP.format("op1"), _NAME.format("name"))),
]
_VALID_OPS = ("<", "<=", ">", ">=")


def valid_quantities() -> str:
    """The valid cut names, for error messages."""
    parts = [f"{c}: {' '.join(n for n in COMPONENTS[c] if n != 'UUID')}" for c in RESOLUTION_ORDER]
    return ("; ".join(parts) + " (an unqualified name is looked up in that order; "
            "qualify as component.name, e.g. grande.Ze)")


@dataclass(frozen=True)
class Cut:
    """``low (<|<=) quantity (<|<=) high``; an open side is ``-inf``/``+inf``."""

    quantity: str  # short name as in the component table, e.g. "Ze"
    component: str  # e.g. "array"
    low: float = -math.inf
    high: float = math.inf
    low_inclusive: bool = False
    high_inclusive: bool = False
    text: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.component}.{self.quantity}"

    def __str__(self) -> str:
        parts = []
        if self.low > -math.inf:
            parts.append(f"{self.low:g}{'<=' if self.low_inclusive else '<'}")
        parts.append(self.qualified)
        if self.high < math.inf:
            parts.append(f"{'<=' if self.high_inclusive else '<'}{self.high:g}")
        return "".join(parts)

    def mask_values(self, values) -> np.ndarray:
        """Boolean mask over an array of values (NaN never passes)."""
        v = np.asarray(values, dtype=np.float64)
        ok = np.ones(v.shape, dtype=bool)
        if self.low > -math.inf:
            ok &= (v >= self.low) if self.low_inclusive else (v > self.low)
        if self.high < math.inf:
            ok &= (v <= self.high) if self.high_inclusive else (v < self.high)
        return ok

    def mask(self, frame) -> np.ndarray:
        """Boolean mask over the rows of one component's DataFrame."""
        if self.quantity not in frame.columns:
            raise CutError(f"cut {self.text or self}: column {self.quantity!r} is not in the "
                           f"{self.component} table (columns: {', '.join(map(str, frame.columns))})")
        return self.mask_values(frame[self.quantity].to_numpy(dtype=np.float64, na_value=np.nan))

    def to_arrow_expression(self, field: str | None = None):
        """The cut as a ``pyarrow.compute.Expression`` on ``field`` (default: the short name),
        for ``pyarrow.dataset`` / Parquet filter push-down."""
        import pyarrow.compute as pc

        column = pc.field(field or self.quantity)
        expr = None
        if self.low > -math.inf:
            expr = (column >= self.low) if self.low_inclusive else (column > self.low)
        if self.high < math.inf:
            upper = (column <= self.high) if self.high_inclusive else (column < self.high)
            expr = upper if expr is None else expr & upper
        return expr if expr is not None else pc.scalar(True)


def _number(text: str, cut: str) -> float:
    s = text.strip()
    try:
        for prefix in ("10^", "10**"):
            if s.startswith(prefix):
                return 10.0 ** float(s[len(prefix):])
        value = float(s)
    except ValueError:
        raise CutError(f"cut {cut!r}: {s!r} is not a number (write e.g. 1e15 or 10^15.7)") from None
    if math.isnan(value):
        raise CutError(f"cut {cut!r}: NaN is not a cut value")
    return value


def _lookup(name: str, cut: str) -> Quantity:
    try:
        quantity = resolve(name)
    except KeyError:
        raise CutError(f"cut {cut!r}: unknown quantity {name!r}; valid quantities: "
                       f"{valid_quantities()}") from None
    if quantity.name == "UUID":
        raise CutError(f"cut {cut!r}: UUID is an identifier, not a cut quantity; valid quantities: "
                       f"{valid_quantities()}")
    return quantity


def parse_cut(text: str) -> Cut:
    """Parse one cut expression; raises :class:`CutError` naming the problem."""
    if not isinstance(text, str) or not text.strip():
        raise CutError(f"empty cut {text!r}; write e.g. 'E>1e15' or '1e15<=E<1e16'")
    for pattern in _PATTERNS:
        m = pattern.match(text)
        if m:
            break
    else:
        raise CutError(f"cannot parse cut {text!r}: expected 'Q op value' or 'low op Q op high' "
                       f"with op one of {' '.join(_VALID_OPS)}")
    groups = m.groupdict()
    for key in ("op1", "op2"):
        if groups.get(key) and groups[key] not in _VALID_OPS:
            raise CutError(f"cut {text!r}: operator {groups[key]!r} is not allowed; "
                           f"use one of {' '.join(_VALID_OPS)}")
    quantity = _lookup(groups["name"], text)
    low, high, low_inc, high_inc = -math.inf, math.inf, False, False

    def bound(op: str, value: float, name_on_left: bool) -> None:
        nonlocal low, high, low_inc, high_inc
        # normalise to "name op value"
        if not name_on_left:
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
        if op in (">", ">="):
            if value > low or (value == low and op == ">"):
                low, low_inc = value, op == ">="
        else:
            if value < high or (value == high and op == "<"):
                high, high_inc = value, op == "<="

    if groups.get("op2"):  # v1 op1 name op2 v2
        op1, op2 = groups["op1"], groups["op2"]
        if (op1[0] == "<") != (op2[0] == "<"):
            raise CutError(f"cut {text!r}: a range needs both operators in one direction "
                           f"(e.g. 1e15<=E<1e16), found {op1!r} and {op2!r}")
        bound(op1, _number(groups["v1"], text), name_on_left=False)
        bound(op2, _number(groups["v2"], text), name_on_left=True)
    elif text.strip().startswith(groups["name"]):
        bound(groups["op1"], _number(groups["v1"], text), name_on_left=True)
    else:
        bound(groups["op1"], _number(groups["v1"], text), name_on_left=False)

    if low > high or (low == high and not (low_inc and high_inc)):
        raise CutError(f"cut {text!r}: empty range for {quantity.qualified} ({low:g} .. {high:g})")
    q_low, q_high = quantity.low, quantity.high
    if not (math.isnan(q_low) or math.isnan(q_high)):
        if (low > q_high) or (high < q_low) or (low == q_high and not low_inc) or \
                (high == q_low and not high_inc):
            unit = f" {quantity.unit}" if quantity.unit else ""
            raise CutError(f"cut {text!r}: selects nothing, {quantity.qualified} lies in "
                           f"{q_low:g} .. {q_high:g}{unit} ({quantity.description})")
    return Cut(quantity.name, quantity.component, low, high, low_inc, high_inc, text.strip())


def parse_cuts(texts: Iterable[str | Cut]) -> list[Cut]:
    """Parse several cuts (already parsed ones pass through)."""
    return [t if isinstance(t, Cut) else parse_cut(t) for t in texts]


def mask_tables(tables: Mapping[str, object], cuts: Iterable[str | Cut]) -> np.ndarray:
    """The rows passing all cuts over component tables with one shared row order.

    ``tables`` maps component name (``array``, ``general`` ...) to a DataFrame.
    """
    parsed = parse_cuts(cuts)
    lengths = {name: len(frame) for name, frame in tables.items()}
    if len(set(lengths.values())) > 1:
        raise CutError(f"component tables differ in row count: {lengths}")
    n = next(iter(lengths.values()), 0)
    keep = np.ones(n, dtype=bool)
    for cut in parsed:
        if cut.component not in tables:
            raise CutError(f"cut {cut.text or cut}: component {cut.component!r} is not in this "
                           f"selection (components: {', '.join(tables)})")
        keep &= cut.mask(tables[cut.component])
    return keep


def combined_arrow_expression(cuts: Iterable[str | Cut], field_names: Mapping[str, str] | None = None):
    """AND of several cuts as one pyarrow expression. ``field_names`` maps a qualified
    name (``array.E``) or short name (``E``) to the column in the target table."""
    import pyarrow.compute as pc

    field_names = field_names or {}
    expr = pc.scalar(True)
    for cut in parse_cuts(cuts):
        field = field_names.get(cut.qualified, field_names.get(cut.quantity))
        expr = expr & cut.to_arrow_expression(field)
    return expr
