"""Cut parsing, validation and application (pandas and pyarrow)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from dlclab.cuts import Cut, combined_arrow_expression, mask_tables, parse_cut
from dlclab.errors import CutError


@pytest.mark.parametrize("text, low, high, lo_inc, hi_inc, comp", [
    ("E>1e15", 1e15, math.inf, False, False, "array"),
    ("Ze<18", -math.inf, 18, False, False, "array"),
    ("1e15<=E<1e16", 1e15, 1e16, True, False, "array"),
    ("Nmu>=1e4", 1e4, math.inf, True, False, "array"),
    (" 18 > Ze ", -math.inf, 18, False, False, "array"),
    ("1e16>=E>1e15", 1e15, 1e16, False, True, "array"),
    ("E>=10^15.7", 10 ** 15.7, math.inf, True, False, "array"),
    ("grande.Ze<30", -math.inf, 30, False, False, "grande"),
    ("Nch>1e6", 1e6, math.inf, False, False, "grande"),
    ("R<=1000", -math.inf, 1000, False, True, "general"),
])
def test_parse(text, low, high, lo_inc, hi_inc, comp):
    cut = parse_cut(text)
    assert (cut.low, cut.high, cut.low_inclusive, cut.high_inclusive, cut.component) == \
        (pytest.approx(low), high, lo_inc, hi_inc, comp)


@pytest.mark.parametrize("text, words", [
    ("Foo>1", ["Foo", "valid quantities", "Ze"]),
    ("E=>1e15", ["=>", "<="]),
    ("E!=1e15", ["!="]),
    ("E>abc", ["abc", "not a number"]),
    ("1e16<E<1e15", ["empty range"]),
    ("Ze>70", ["selects nothing", "0 .. 60", "deg"]),
    ("1<E>3", ["one direction"]),
    ("E", ["cannot parse"]),
    ("", ["empty cut"]),
    ("UUID>1", ["identifier"]),
])
def test_bad_cuts_name_the_problem(text, words):
    with pytest.raises(CutError) as err:
        parse_cut(text)
    for w in words:
        assert w in str(err.value)


def test_mask_and_arrow_expression_agree():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"E": 10 ** rng.uniform(14, 17, 5000), "Ze": rng.uniform(0, 60, 5000)})
    frame.loc[3, "E"] = 1e15  # the edge: inclusive vs exclusive
    cuts = [parse_cut("1e15<=E<1e16"), parse_cut("Ze<18")]
    mask = cuts[0].mask(frame) & cuts[1].mask(frame)
    manual = (frame.E >= 1e15) & (frame.E < 1e16) & (frame.Ze < 18)
    assert np.array_equal(mask, manual.to_numpy()) and mask[3] == (frame.Ze[3] < 18)
    table = pa.Table.from_pandas(frame)
    filtered = table.filter(combined_arrow_expression(cuts))
    assert filtered.num_rows == mask.sum()
    renamed = table.rename_columns(["energy_eV", "zenith_deg"])
    expr = combined_arrow_expression(cuts, {"array.E": "energy_eV", "Ze": "zenith_deg"})
    assert renamed.filter(expr).num_rows == mask.sum()
    assert isinstance(cuts[0].to_arrow_expression(), pc.Expression)


def test_mask_tables_combines_components_and_checks_them():
    tables = {"array": pd.DataFrame({"E": [1e14, 1e16, 1e16]}),
              "grande": pd.DataFrame({"Nch": [np.nan, 2e6, 1e5]})}
    assert mask_tables(tables, ["E>1e15", "Nch>1e6"]).tolist() == [False, True, False]
    with pytest.raises(CutError, match="truth"):
        mask_tables(tables, ["E_true>1e15"])
    with pytest.raises(CutError, match="row count"):
        mask_tables({"array": tables["array"], "grande": tables["grande"].iloc[:2]}, ["E>1e15"])
    assert isinstance(parse_cut("E>1"), Cut)
