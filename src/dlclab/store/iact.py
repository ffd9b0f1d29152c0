"""TAIGA-IACT camera images: raw MAROC packages -> an ``xarray.Dataset`` (event x pixel)
-> Zarr.

A camera event is spread over several MAROC boards (one 32-channel package per board,
same event number). :func:`assemble_images` places every package's channels on the
camera through :func:`dlclab.instruments.taiga.channel_to_pixel`; pixels whose board
sent no package for an event stay NaN (not zero: zero would be a measurement).

The dataset (written by :func:`write_images`)::

    dims      event, pixel (560), neighbor (6)
    data      high_gain, low_gain (event, pixel) float32, ADC counts (raw, not calibrated)
    coords    pixel_x_deg, pixel_y_deg, pixel_x_m, pixel_y_m (pixel): camera geometry
              pixel_neighbors (pixel, neighbor): hexagonal neighbours, -1 at the edge
              uuid, run, event_number, time, file, n_boards (event), true_* (event, simulations)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dlclab.errors import FormatError

IMAGE_CHUNK_EVENTS = 1024


def assemble_images(data) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Images of one decoded IACT file (:class:`~dlclab.formats.taiga.TaigaIactData`).

    Returns ``(events, high_gain, low_gain)``: one row per event (event_number,
    time_ns of its first package, n_boards) in file order, and (n_events, 560) float32
    images in ADC counts, NaN where no board covered the pixel.
    """
    from dlclab.instruments.taiga import IACT_N_PIXELS, channel_to_pixel

    table = channel_to_pixel()
    numbers = np.asarray(data.packages["event_number"], dtype=np.int64)
    boards = np.asarray(data.board, dtype=np.int64)
    if len(boards) and (boards.min() < 0 or boards.max() >= table.shape[0]):
        bad = int(np.flatnonzero((boards < 0) | (boards >= table.shape[0]))[0])
        raise FormatError(data.path, f"MAROC board {int(boards[bad])} is not in the camera map",
                          package=bad, expected=f"board 0..{table.shape[0] - 1}")
    uniq, first, inverse = np.unique(numbers, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # events in file order
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    row = rank[inverse]
    n_events = len(uniq)
    high = np.full((n_events, IACT_N_PIXELS), np.nan, dtype=np.float32)
    low = np.full((n_events, IACT_N_PIXELS), np.nan, dtype=np.float32)
    pixels = table[boards]                       # (n_packages, 32)
    rows = np.broadcast_to(row[:, None], pixels.shape)
    connected = pixels >= 0
    high[rows[connected], pixels[connected]] = np.asarray(data.high_gain, dtype=np.float32)[connected]
    low[rows[connected], pixels[connected]] = np.asarray(data.low_gain, dtype=np.float32)[connected]
    time_ns = np.asarray(data.time_ns, dtype=np.int64)
    n_boards = np.bincount(row, minlength=n_events)
    events = pd.DataFrame({"event_number": uniq[order], "time_ns": time_ns[first[order]],
                           "n_boards": n_boards.astype(np.int32)})
    return events, high, low


def read_calibration(path: Path) -> dict:
    """An IACT calibration (``calibration.json`` of a night: pedestals (18, 32) per gain,
    gains in ADC counts per photo-electron, high-gain saturation)."""
    import json

    try:
        doc = json.loads(Path(path).read_text())
        cal = {"pedestal_hg": np.asarray(doc["pedestal_hg"], dtype=np.float64),
               "pedestal_lg": np.asarray(doc["pedestal_lg"], dtype=np.float64),
               "gain_hg_adc_per_pe": float(doc["gain_hg_adc_per_pe"]),
               "gain_lg_adc_per_pe": float(doc["gain_lg_adc_per_pe"]),
               "hg_saturation_adc": float(doc["hg_saturation_adc"])}
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(path, f"not an IACT calibration ({exc})",
                          expected="pedestal_hg, pedestal_lg, gain_*_adc_per_pe, hg_saturation_adc") from None
    if cal["pedestal_hg"].shape != (18, 32) or cal["pedestal_lg"].shape != (18, 32):
        raise FormatError(path, "pedestals have the wrong shape", expected="(18, 32)",
                          found=str(cal["pedestal_hg"].shape))
    return cal


def calibrate_images(high: np.ndarray, low: np.ndarray, cal: dict) -> np.ndarray:
    """Photo-electrons per pixel: (ADC - pedestal) / gain, high gain below its saturation,
    low gain above. NaN stays NaN (pixels without data)."""
    from dlclab.instruments.taiga import IACT_N_PIXELS, channel_to_pixel

    table = channel_to_pixel()
    b, c = np.nonzero(table >= 0)
    ped_hg = np.empty(IACT_N_PIXELS)
    ped_lg = np.empty(IACT_N_PIXELS)
    ped_hg[table[b, c]] = cal["pedestal_hg"][b, c]
    ped_lg[table[b, c]] = cal["pedestal_lg"][b, c]
    pe_hg = (high - ped_hg) / cal["gain_hg_adc_per_pe"]
    pe_lg = (low - ped_lg) / cal["gain_lg_adc_per_pe"]
    return np.where(high >= cal["hg_saturation_adc"], pe_lg, pe_hg).astype(np.float32)


def images_dataset(events: pd.DataFrame, images: dict[str, np.ndarray]):
    """The xarray Dataset of assembled images (``high_gain``, ``low_gain`` and, when a
    calibration was available, ``image_pe``); ``events`` holds the per-event
    coordinates (uuid, run, event_number, time, file, n_boards, true_* ...)."""
    import xarray as xr

    from dlclab.instruments.taiga import (
        IACT_FOCAL_LENGTH_M,
        IACT_MIRROR_DIAMETER_M,
        IACT_PIXEL_SPACING_DEG,
        iact_camera_geometry,
    )

    geom = iact_camera_geometry()
    coords = {
        "pixel": ("pixel", geom.pixel_id.astype(np.int32), {"description": "pixel id"}),
        "pixel_x_deg": ("pixel", geom.x_deg, {"unit": "deg", "description": "pixel centre x in the field of view"}),
        "pixel_y_deg": ("pixel", geom.y_deg, {"unit": "deg", "description": "pixel centre y in the field of view"}),
        "pixel_x_m": ("pixel", geom.x_m, {"unit": "m", "description": "pixel centre x on the focal plane"}),
        "pixel_y_m": ("pixel", geom.y_m, {"unit": "m", "description": "pixel centre y on the focal plane"}),
        "pixel_neighbors": (("pixel", "neighbor"), geom.neighbors, {"description": "neighbour pixel ids, -1 padded"}),
    }
    for name in events.columns:
        values = events[name]
        if name == "time":
            values = pd.to_datetime(values, utc=True).dt.tz_localize(None).to_numpy("datetime64[ns]")
            attrs = {"description": "event time (first package), UTC"}
        else:
            values = values.to_numpy()
            if values.dtype == object or pd.api.types.is_string_dtype(events[name]):
                values = values.astype(str).astype(object)  # variable-length strings in Zarr
            from dlclab.store.schema import unit_from_name

            attrs = {"unit": unit_from_name(name)} if unit_from_name(name) else {}
        coords[name] = ("event", values, attrs)
    image_attrs = {"unit": "ADC counts", "description": "raw amplitude, pedestal not subtracted; "
                   "NaN where no MAROC board covered the pixel"}
    data_vars = {"high_gain": (("event", "pixel"), images["high_gain"], dict(image_attrs, gain="high")),
                 "low_gain": (("event", "pixel"), images["low_gain"], dict(image_attrs, gain="low"))}
    if "image_pe" in images:
        data_vars["image_pe"] = (("event", "pixel"), images["image_pe"], {
            "unit": "pe", "description": "photo-electrons: (ADC - pedestal) / gain, high gain "
            "below saturation, low gain above (the night's calibration.json)"})
    ds = xr.Dataset(
        data_vars,
        coords=coords,
        attrs={"instrument": "TAIGA-IACT, first camera", "n_pixels": int(len(geom.pixel_id)),
               "pixel_spacing_deg": IACT_PIXEL_SPACING_DEG, "focal_length_m": IACT_FOCAL_LENGTH_M,
               "mirror_diameter_m": IACT_MIRROR_DIAMETER_M,
               "channel_map": "dlclab.instruments.taiga.channel_to_pixel"},
    )
    return ds


def write_images(ds, path: Path) -> None:
    """Write the images to a Zarr (v3) store with consolidated metadata."""
    import warnings

    chunk = (max(1, min(IMAGE_CHUNK_EVENTS, ds.sizes["event"])), ds.sizes["pixel"])
    encoding = {v: {"chunks": chunk} for v in ds.data_vars if ds[v].dims == ("event", "pixel")}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Cc]onsolidated metadata.*")
        ds.to_zarr(path, mode="w-", zarr_format=3, consolidated=True, encoding=encoding)
