"""Export writers: one table per component, in the formats KCDC offers.

ASCII  a zip of whitespace tables ``<component>.txt`` (shared row order per component)
       plus ``Info.txt`` describing the selection
HDF5   one ``.h5``: a group per component, a dataset per quantity, selection as attributes
ROOT   one ``.root``: a TTree per component, a branch per numeric quantity
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

FORMATS = {"ASCII": ".zip", "HDF5": ".h5", "ROOT": ".root"}


def write_export(tables: dict[str, pd.DataFrame], info: dict, fmt: str, out: Path) -> Path:
    """Write ``tables`` (component -> DataFrame) to ``out`` in ``fmt``; returns the file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if fmt == "ASCII":
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for component, df in tables.items():
                buf = io.StringIO()
                buf.write("# " + " ".join(df.columns) + "\n")
                df.to_csv(buf, sep=" ", header=False, index=False)
                zf.writestr(f"{component}.txt", buf.getvalue())
            zf.writestr("Info.txt", "\n".join(f"{k}: {json.dumps(v)}" for k, v in info.items()) + "\n")
    elif fmt == "HDF5":
        import h5py

        with h5py.File(tmp, "w") as h5:
            for key, value in info.items():
                h5.attrs[key] = json.dumps(value)
            for component, df in tables.items():
                group = h5.create_group(component)
                for column in df.columns:
                    if pd.api.types.is_numeric_dtype(df[column]):
                        values = df[column].to_numpy()
                    else:
                        values = df[column].astype(str).to_numpy().astype("S")
                    group.create_dataset(column, data=values)
    elif fmt == "ROOT":
        import uproot

        with uproot.recreate(tmp) as root:
            root["info"] = json.dumps(info)
            for component, df in tables.items():
                # TTrees get the numeric quantities; text columns (uuid) are in HDF5/ASCII
                branches = {c: np.asarray(df[c].to_numpy()) for c in df.columns
                            if pd.api.types.is_numeric_dtype(df[c])}
                root[component] = branches
    else:
        raise ValueError(f"export format {fmt!r}: expected one of {sorted(FORMATS)}")
    tmp.replace(out)  # a finished export appears whole or not at all
    return out
