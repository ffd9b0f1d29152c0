"""The KCDC components and their quantities (DOMAIN.md section 1): name, unit, valid range.

One table, used by the exports (column order, units in headers), by the cuts
(validation) and by the simulator (column names). The ranges are the DataShop's
ranges of each quantity; a cut entirely outside a range selects nothing and is refused.

The ``truth`` component is what KCDC *simulations* add to the measured-data format:
the true primary quantities. Its names (``E_true`` ...) are the lab's choice (KCDC's
own simulation quantity names are not verified) and live here only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Quantity:
    """One exported quantity. ``low``/``high`` are the documented range in ``unit``."""

    component: str
    name: str
    unit: str
    low: float
    high: float
    dtype: str
    description: str
    #: True for quantities KCDC's database holds as log10 (E, Ne, Nmu and their kin)
    log_scale: bool = False

    @property
    def qualified(self) -> str:
        return f"{self.component}.{self.name}"


def _q(component: str, rows: list[tuple]) -> dict[str, Quantity]:
    return {r[0]: Quantity(component, *r) for r in rows}


GENERAL = _q("general", [
    ("T", "degC", -20, 50, "float32", "air temperature"),
    ("P", "hPa", 960, 1040, "float32", "air pressure"),
    ("Gt", "s", 894638100, 1358239243, "int64", "event time, Unix seconds (UTC)"),
    ("Mt", "ns", 0, 999999999, "int64", "ns within the second Gt"),
    ("R", "", 877, 7417, "int32", "run number"),
    ("Ev", "", 1, 4100000, "int32", "event number in the run"),
    ("UUID", "", np.nan, np.nan, "string", "event UUID (v5 from experiment, run, event)"),
])
ARRAY = _q("array", [
    ("E", "eV", 1e13, 1e19, "float64", "reconstructed primary energy", True),
    ("Xc", "m", -91, 91, "float64", "shower core x in the array frame"),
    ("Yc", "m", -91, 91, "float64", "shower core y in the array frame"),
    ("Ze", "deg", 0, 60, "float64", "zenith angle"),
    ("Az", "deg", 0, 360, "float64", "azimuth angle"),
    ("Ne", "", 1e2, 5e8, "float64", "electron number", True),
    ("Nmu", "", 1e2, 5e7, "float64", "muon number (truncated)", True),
    ("Age", "", 0.1, 1.48, "float64", "shower age (NKG)"),
])
GRANDE = _q("grande", [
    ("Xc", "m", -500, 100, "float64", "shower core x in the Grande frame"),
    ("Yc", "m", -600, 100, "float64", "shower core y in the Grande frame"),
    ("Ze", "deg", 0, 40, "float64", "zenith angle"),
    ("Az", "deg", 0, 360, "float64", "azimuth angle"),
    ("Nch", "", 11111, 1e9, "float64", "number of charged particles", True),
    ("Nmu", "", 1500, 1e8, "float64", "muon number", True),
    ("Age", "", -0.385, 1.488, "float64", "shower age"),
])
CALORIMETER = _q("calorimeter", [
    ("Nhad", "", 0, 511, "int32", "number of reconstructed hadrons"),
    ("Ehad", "eV", 0, 1e18, "float64", "summed hadron energy"),
])
TRUTH = _q("truth", [
    ("E_true", "eV", 1e13, 1e19, "float64", "true primary energy", True),
    ("Ze_true", "deg", 0, 90, "float64", "true zenith angle"),
    ("Az_true", "deg", 0, 360, "float64", "true azimuth angle"),
    ("Xc_true", "m", -1000, 1000, "float64", "true core x in the array frame"),
    ("Yc_true", "m", -1000, 1000, "float64", "true core y in the array frame"),
    ("Ne_true", "", 1, 1e10, "float64", "true electron number at ground", True),
    ("Nmu_true", "", 1, 1e9, "float64", "true muon number at ground", True),
    ("Age_true", "", 0, 2, "float64", "true shower age"),
    ("PrimaryId", "", 14, 5626, "int32", "primary particle, CORSIKA id (100 A + Z; 14 = proton)"),
    ("A", "", 1, 56, "int32", "primary mass number"),
])

#: component -> its quantities in export column order
COMPONENTS: dict[str, dict[str, Quantity]] = {
    "general": GENERAL,
    "array": ARRAY,
    "grande": GRANDE,
    "calorimeter": CALORIMETER,
    "truth": TRUTH,
}
#: Where an unqualified name (``Ze``) is looked up first: the KASCADE array owns E, Ze, ...
RESOLUTION_ORDER = ("array", "general", "calorimeter", "grande", "truth")

#: Per-station arrays of the array component (not in ASCII exports). Units and ranges.
STATION_ARRAYS: dict[str, tuple[str, float, float, str]] = {
    "StationId": ("", 1, 252, "int16"),
    "EDeposit": ("MeV", 0, 30000, "float32"),
    "MDeposit": ("MeV", 0, 1000, "float32"),
    "Arrival": ("ns", -1550, 2550, "float32"),
}


def resolve(name: str) -> Quantity:
    """A quantity from ``"Ze"`` or ``"grande.Ze"``. Raises KeyError if unknown."""
    if "." in name:
        component, short = name.split(".", 1)
        return COMPONENTS[component.lower()][short]
    for component in RESOLUTION_ORDER:
        if name in COMPONENTS[component]:
            return COMPONENTS[component][name]
    raise KeyError(name)


def all_names() -> list[str]:
    """Every valid cut name: unqualified names first, then component-qualified ones."""
    short = [n for c in RESOLUTION_ORDER for n in COMPONENTS[c] if n != "UUID"]
    seen: list[str] = []
    for n in short:
        if n not in seen:
            seen.append(n)
    return seen + [q.qualified for c in COMPONENTS.values() for q in c.values() if q.name != "UUID"]
