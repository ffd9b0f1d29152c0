"""The store's table schemas: one unified set of columns both experiments share, plus
each experiment's own. Units are in the column names *and* in the Arrow field metadata
(``unit``, ``description``, and ``kcdc_name`` where a column comes from a KCDC quantity).

Shared columns (every event table)::

    uuid         string     event UUID, v5 of (experiment, run, event): stable across releases
    run          int64      run number (TAIGA: YYYYMMDD * 1000 + file sequence number)
    event        int64      event number in the run
    time         timestamp[ns, UTC]
    energy_eV, zenith_deg, azimuth_deg, core_x_m, core_y_m    float64 (null if not reconstructed)
    dataset      string     the data set of the release the event belongs to

``experiment`` and ``release`` are the hive partition keys (directory names), so every
reader of an ``events`` directory gets them as columns.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    unit: str
    description: str
    kcdc_name: str | None = None

    def field(self) -> pa.Field:
        meta = {"unit": self.unit, "description": self.description}
        if self.kcdc_name:
            meta["kcdc_name"] = self.kcdc_name
        return pa.field(self.name, self.type, nullable=True, metadata=meta)


TIME_TYPE = pa.timestamp("ns", tz="UTC")

SHARED: tuple[Column, ...] = (
    Column("uuid", pa.string(), "", "event UUID (v5 of experiment, run, event; stable across releases)", "UUID"),
    Column("run", pa.int64(), "", "run number", "R"),
    Column("event", pa.int64(), "", "event number in the run", "Ev"),
    Column("time", TIME_TYPE, "ns", "event time, UTC"),
    Column("energy_eV", pa.float64(), "eV", "reconstructed primary energy", "E"),
    Column("zenith_deg", pa.float64(), "deg", "reconstructed zenith angle", "Ze"),
    Column("azimuth_deg", pa.float64(), "deg", "reconstructed azimuth angle", "Az"),
    Column("core_x_m", pa.float64(), "m", "shower core x in the array frame", "Xc"),
    Column("core_y_m", pa.float64(), "m", "shower core y in the array frame", "Yc"),
    Column("dataset", pa.string(), "", "data set of the release"),
)

#: KASCADE columns: (store name, KCDC component, KCDC quantity, type, unit, description)
KASCADE: tuple[Column, ...] = (
    Column("ne", pa.float64(), "", "electron number (array)", "Ne"),
    Column("nmu", pa.float64(), "", "muon number, truncated (array)", "Nmu"),
    Column("age", pa.float64(), "", "shower age, NKG (array)", "Age"),
    Column("gps_time_s", pa.int64(), "s", "event time, Unix seconds (KCDC Gt)", "Gt"),
    Column("mt_ns", pa.int64(), "ns", "ns within the second gps_time_s (KCDC Mt)", "Mt"),
    Column("temperature_degC", pa.float32(), "degC", "air temperature", "T"),
    Column("pressure_hPa", pa.float32(), "hPa", "air pressure", "P"),
    Column("grande_core_x_m", pa.float64(), "m", "shower core x in the Grande frame", "grande.Xc"),
    Column("grande_core_y_m", pa.float64(), "m", "shower core y in the Grande frame", "grande.Yc"),
    Column("grande_zenith_deg", pa.float64(), "deg", "zenith angle (Grande)", "grande.Ze"),
    Column("grande_azimuth_deg", pa.float64(), "deg", "azimuth angle (Grande)", "grande.Az"),
    Column("grande_nch", pa.float64(), "", "number of charged particles (Grande)", "grande.Nch"),
    Column("grande_nmu", pa.float64(), "", "muon number (Grande)", "grande.Nmu"),
    Column("grande_age", pa.float64(), "", "shower age (Grande)", "grande.Age"),
    Column("n_had", pa.int32(), "", "number of reconstructed hadrons (calorimeter)", "Nhad"),
    Column("e_had_eV", pa.float64(), "eV", "summed hadron energy (calorimeter)", "Ehad"),
    Column("n_stations", pa.int32(), "", "number of stations with a signal (rows in 'stations')"),
    Column("true_energy_eV", pa.float64(), "eV", "true primary energy (simulation)", "E_true"),
    Column("true_zenith_deg", pa.float64(), "deg", "true zenith angle (simulation)", "Ze_true"),
    Column("true_azimuth_deg", pa.float64(), "deg", "true azimuth angle (simulation)", "Az_true"),
    Column("true_core_x_m", pa.float64(), "m", "true core x (simulation)", "Xc_true"),
    Column("true_core_y_m", pa.float64(), "m", "true core y (simulation)", "Yc_true"),
    Column("true_ne", pa.float64(), "", "true electron number at ground (simulation)", "Ne_true"),
    Column("true_nmu", pa.float64(), "", "true muon number at ground (simulation)", "Nmu_true"),
    Column("true_age", pa.float64(), "", "true shower age (simulation)", "Age_true"),
    Column("true_primary_id", pa.int32(), "", "primary particle, CORSIKA id (simulation)", "PrimaryId"),
    Column("true_mass_number", pa.int32(), "", "primary mass number (simulation)", "A"),
)

#: KCDC (component, quantity) -> store column
KCDC_TO_STORE: dict[tuple[str, str], str] = {
    ("general", "UUID"): "uuid", ("general", "R"): "run", ("general", "Ev"): "event",
    ("general", "Gt"): "gps_time_s", ("general", "Mt"): "mt_ns",
    ("general", "T"): "temperature_degC", ("general", "P"): "pressure_hPa",
    ("array", "E"): "energy_eV", ("array", "Ze"): "zenith_deg", ("array", "Az"): "azimuth_deg",
    ("array", "Xc"): "core_x_m", ("array", "Yc"): "core_y_m",
    ("array", "Ne"): "ne", ("array", "Nmu"): "nmu", ("array", "Age"): "age",
    ("grande", "Xc"): "grande_core_x_m", ("grande", "Yc"): "grande_core_y_m",
    ("grande", "Ze"): "grande_zenith_deg", ("grande", "Az"): "grande_azimuth_deg",
    ("grande", "Nch"): "grande_nch", ("grande", "Nmu"): "grande_nmu", ("grande", "Age"): "grande_age",
    ("calorimeter", "Nhad"): "n_had", ("calorimeter", "Ehad"): "e_had_eV",
    ("truth", "E_true"): "true_energy_eV", ("truth", "Ze_true"): "true_zenith_deg",
    ("truth", "Az_true"): "true_azimuth_deg", ("truth", "Xc_true"): "true_core_x_m",
    ("truth", "Yc_true"): "true_core_y_m", ("truth", "Ne_true"): "true_ne",
    ("truth", "Nmu_true"): "true_nmu", ("truth", "Age_true"): "true_age",
    ("truth", "PrimaryId"): "true_primary_id", ("truth", "A"): "true_mass_number",
}

#: Per-station table of KASCADE events with arrays (one row per event and station)
KASCADE_STATIONS: tuple[Column, ...] = (
    Column("uuid", pa.string(), "", "event UUID (joins the events table)", "UUID"),
    Column("run", pa.int64(), "", "run number", "R"),
    Column("event", pa.int64(), "", "event number in the run", "Ev"),
    Column("station_id", pa.int16(), "", "station number 1..252", "StationId"),
    Column("e_deposit_MeV", pa.float32(), "MeV", "e/gamma energy deposit", "EDeposit"),
    Column("mu_deposit_MeV", pa.float32(), "MeV", "muon energy deposit", "MDeposit"),
    Column("arrival_ns", pa.float32(), "ns", "arrival time relative to the shower front", "Arrival"),
    Column("dataset", pa.string(), "", "data set of the release"),
)

TAIGA: tuple[Column, ...] = (
    Column("facility", pa.string(), "", "TAIGA facility: tunka133, tunka_rex, tunka_grande, taiga_iact, taiga_hiscore"),
    Column("cluster", pa.int32(), "", "cluster / station / telescope number"),
    Column("date", pa.date32(), "d", "night's date (from the folder name), UTC"),
    Column("time_ns", pa.int64(), "ns", "ns since the start of the day (raw time stamp)"),
    Column("file", pa.string(), "", "raw file the event comes from (relative to raw/taiga)"),
    Column("n_packages", pa.int32(), "", "raw packages of the event in the file"),
)

_UNIT_SUFFIX = re.compile(r"_(eV|GeV|TeV|PeV|deg|rad|m|m2|s|ns|us|ms|hPa|degC|MeV|sr|pe)$")


def unit_from_name(name: str) -> str:
    """The unit a column name carries (``true_energy_eV`` -> ``eV``), else ``""``."""
    m = _UNIT_SUFFIX.search(name)
    return m.group(1) if m else ""


def kascade_schema() -> pa.Schema:
    return pa.schema([c.field() for c in SHARED + KASCADE],
                     metadata={"experiment": "kascade", "schema": "dlclab.events/1"})


def kascade_stations_schema() -> pa.Schema:
    return pa.schema([c.field() for c in KASCADE_STATIONS],
                     metadata={"experiment": "kascade", "schema": "dlclab.stations/1"})


def taiga_schema(extra: dict[str, pa.DataType] | None = None) -> pa.Schema:
    """TAIGA events: shared + TAIGA columns + the data's ``true_*`` truth columns."""
    fields = [c.field() for c in SHARED + TAIGA]
    known = {f.name for f in fields}
    for name, typ in (extra or {}).items():
        if name not in known:
            fields.append(pa.field(name, typ, metadata={
                "unit": unit_from_name(name), "description": f"simulation truth: {name[5:]}"
                if name.startswith("true_") else name}))
    return pa.schema(fields, metadata={"experiment": "taiga", "schema": "dlclab.events/1"})


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Order, cast and null-fill ``table``'s columns to ``schema`` (extra columns are an error)."""
    extra = set(table.column_names) - set(schema.names)
    if extra:
        raise ValueError(f"columns not in the schema: {sorted(extra)}")
    n = table.num_rows
    arrays = []
    for f in schema:
        if f.name in table.column_names:
            arrays.append(table.column(f.name).cast(f.type))
        else:
            arrays.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def column_units(schema: pa.Schema) -> dict[str, str]:
    """``{column: unit}`` from a schema's field metadata."""
    return {f.name: (f.metadata or {}).get(b"unit", b"").decode() for f in schema}
