"""Writers of the five TAIGA raw formats (the simulator writes with them).

Every writer fills a numpy structured array whose dtype comes from the format's
``.ksy`` (so the layout is written once), sets the constants the ``.ksy`` declares
(magic bytes, package sizes, trailers) and writes its bytes. ``write -> read`` gives
back the bytes and, at the format's resolution, the values:

* ``time_ns`` is ns since the start of the day (int64). The 8-byte time stamp counts
  10 ns (IACT, HiSCORE, Grande); Tunka-133/Rex events carry hour..millisecond, so
  their ``time_ns`` reads back truncated to the millisecond (the timer words keep the
  10 ns stamp).
* ``write_packages`` writes raw packages as a reader returns them: byte for byte.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from dlclab.atomic import write_bytes
from dlclab.errors import FormatError
from dlclab.formats.taiga import layout as ksy
from dlclab.formats.taiga.readers import READERS, grande_link_base
from dlclab.formats.taiga.timestamp import encode_time_stamp
from dlclab.formats.taiga.variable import BlockedLayout, blocked_layout

#: VME addresses the writers give (synthetic: the real DAQ's address map is not published).
FADC_VME_BASE = 0x0008_0000
TIMER_VME_ADDRESS = 0x0020_0018
REQUEST_ADDRESS = 1
MS_NS = 1_000_000


def _records(format_name: str, n: int) -> np.ndarray:
    layout = ksy.load(format_name)
    records = np.zeros(n, dtype=layout.record.dtype)
    layout.fill_constants(records)
    return records


def _set_time(stamp: np.ndarray, time_ns: ArrayLike) -> None:
    words = encode_time_stamp(time_ns)
    for i, name in enumerate(stamp.dtype.names):
        stamp[name] = words[..., i]


def _vector(name: str, value: ArrayLike, n: int, dtype: str) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim == 0:
        array = np.full(n, array)
    if array.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have shape ({n},), not {array.shape}")
    info = np.iinfo(dtype)
    if array.size and (array.min() < info.min or array.max() > info.max):
        raise ValueError(f"{name} out of range for {dtype}")
    return array.astype(dtype)


def _samples(name: str, value: ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(value)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, not {array.shape}")
    if array.size and (array.min() < 0 or array.max() > 0xFFFF):
        raise ValueError(f"{name} must fit in uint16")
    return array.astype(np.uint16)


def _write_bytes(path: str | os.PathLike, data: np.ndarray) -> int:
    # never leave a half-written raw file under the real name
    return write_bytes(path, memoryview(np.ascontiguousarray(data)).cast("B"))


def _write_links(format_name: str, path, event_number, time_ns, fadc, cluster,
                 optical_line_length) -> int:
    layout = ksy.load(format_name)
    data_shape = layout.record.dtype["data"].shape  # (channels,)
    channels = data_shape[0]
    samples = layout.record.dtype["data"].base["fadc"].shape[0]
    events = np.asarray(event_number)
    n = len(events)
    records = _records(format_name, n)
    data, info = records["data"], records["info"]
    data["fadc"] = _samples("fadc", fadc, (n, channels, samples))
    cluster = _vector("cluster", cluster, n, "u1")
    time = np.asarray(time_ns, dtype=np.int64)
    if time.shape != (n,):
        raise ValueError(f"time_ns must have shape ({n},)")
    per_link = layout.packages_per_record
    counter = np.arange(n, dtype=np.int64)[:, None] * per_link + np.arange(per_link)
    data["request_address"] = REQUEST_ADDRESS
    data["event_number"] = counter[:, :channels]
    data["vme_address"] = FADC_VME_BASE | (np.arange(channels) << 10)
    data["cluster_number"] = cluster[:, None]
    info["request_address"] = REQUEST_ADDRESS
    info["package_counter"] = counter[:, channels]
    info["vme_address"] = TIMER_VME_ADDRESS
    info["timer_words"] = encode_time_stamp(time)
    info["cluster_number"] = cluster
    ms_of_day = time // MS_NS
    info["hour"] = ms_of_day // 3_600_000
    info["minute"] = ms_of_day // 60_000 % 60
    info["second"] = ms_of_day // 1000 % 60
    info["millisecond"] = ms_of_day % 1000
    info["optical_line_length"] = _vector("optical_line_length", optical_line_length, n, "u2")
    info["event_number"] = _vector("event_number", events, n, "u4")
    return _write_bytes(path, records)


def write_tunka133(path, *, event_number, time_ns, fadc, cluster, optical_line_length=500) -> int:
    """Write a Tunka-133 file: one link (32 FADC packages + additional info) per event.

    event_number (n,); time_ns (n,) ns since the start of the day (stored to the ms);
    fadc (n, 32, 512) ADC counts (uint16); cluster and optical_line_length (m) scalars
    or (n,). Returns the bytes written."""
    return _write_links("tunka133", path, event_number, time_ns, fadc, cluster, optical_line_length)


def write_tunka_rex(path, *, event_number, time_ns, fadc, cluster, optical_line_length=500) -> int:
    """Write a Tunka-Rex file: like :func:`write_tunka133` with fadc (n, 4, 512)."""
    return _write_links("tunka_rex", path, event_number, time_ns, fadc, cluster, optical_line_length)


def write_tunka_grande(path, *, event_number, time_ns, samples, cluster, link=1,
                       optical_line_length=500) -> int:
    """Write a Tunka-Grande file: one package per event of the given link (1..4).

    samples (n, 8, 1024) ADC counts; time_ns (n,) ns since the start of the day
    (10 ns resolution). Returns the bytes written."""
    layout = ksy.load("tunka_grande")
    events = np.asarray(event_number)
    n = len(events)
    links = layout.valid_range("data_type")
    n_links = links.max - links.min + 1
    if not 1 <= int(link) <= n_links:
        raise ValueError(f"link must be 1..{n_links}")
    records = _records("tunka_grande", n)
    blocks = records["blocks"]
    n_blocks, count = blocks.shape[1], blocks.dtype["samples"].shape[0]
    records["data_type"] = grande_link_base() + int(link)
    records["event_number"] = _vector("event_number", events, n, "u4")
    _set_time(records["time"], time_ns)
    records["cluster_number"] = _vector("cluster", cluster, n, "u1")
    records["optical_line_length"] = _vector("optical_line_length", optical_line_length, n, "u2")
    blocks["vme_address"] = FADC_VME_BASE | (np.arange(n_blocks) << 10)
    blocks["channel_word"] = layout.pack_bits("channel_word", channel=np.arange(n_blocks), bank=0,
                                              link=int(link) - 1)
    blocks["samples"] = _samples("samples", samples, (n, n_blocks, count))
    return _write_bytes(path, records)


def write_taiga_iact(path, *, event_number, time_ns, board, high_gain, low_gain) -> int:
    """Write a TAIGA-IACT file: one package per (event, MAROC board) row.

    event_number, time_ns, board (m,); high_gain, low_gain (m, 32) ADC counts.
    Returns the bytes written."""
    layout = ksy.load("taiga_iact")
    events = np.asarray(event_number)
    m = len(events)
    records = _records("taiga_iact", m)
    channels = records["channels"].shape[1]
    records["event_number"] = _vector("event_number", events, m, "u4")
    records["reserved"] = np.arange(m, dtype=np.uint32)  # a running counter, as in real data
    _set_time(records["time"], time_ns)
    records["maroc"] = layout.pack_bits("maroc_word", board=_vector("board", board, m, "u1"))
    records["channels"]["high_gain"] = _samples("high_gain", high_gain, (m, channels))
    records["channels"]["low_gain"] = _samples("low_gain", low_gain, (m, channels))
    return _write_bytes(path, records)


def _hiscore() -> BlockedLayout:
    return blocked_layout("taiga_hiscore")


def write_taiga_hiscore(path, *, event_number, time_ns, station, traces, offsets, ip=0) -> int:
    """Write a TAIGA-HiSCORE file: one package per (event, station) row.

    traces (n, 9, L) ADC counts (every block L samples); offsets (n, 9) position of
    the first sample in the readout window; station (n,) or scalar; ip the last part
    of the station DAQ's address. Returns the bytes written."""
    blocked = _hiscore()
    events = np.asarray(event_number)
    n = len(events)
    traces = np.asarray(traces)
    if traces.ndim != 3 or traces.shape[:2] != (n, blocked.n_blocks):
        raise ValueError(f"traces must have shape ({n}, {blocked.n_blocks}, L), not {traces.shape}")
    length = traces.shape[2]
    packages = np.zeros(n, blocked.dtype(length))
    packages[blocked.magic_field] = np.frombuffer(blocked.magic, np.uint8)
    packages["event_number"] = _vector("event_number", events, n, "u4")
    _set_time(packages["time"], time_ns)
    packages["ip"] = _vector("ip", ip, n, "u2")
    packages["station_number"] = _vector("station", station, n, "u2")
    heads = packages[blocked.blocks_field]
    offsets = np.asarray(offsets)
    if offsets.shape != (n, blocked.n_blocks):
        raise ValueError(f"offsets must have shape ({n}, {blocked.n_blocks})")
    heads["offset"] = offsets.astype(np.uint16)
    heads[blocked.count_field] = length
    packages[blocked.samples_field] = _samples("traces", traces, traces.shape)
    for name, value in blocked.tail_constants.items():
        packages[name] = np.frombuffer(value, np.uint8)
    packages[blocked.size_field] = blocked.package_bytes(heads[blocked.count_field]) - blocked.head.itemsize
    return _write_bytes(path, blocked.pack(packages))


def write_packages(path, format, packages: np.ndarray) -> int:  # noqa: A002 (the API's name)
    """Write raw packages as a reader returns them (``TaigaData.packages``): byte-exact.

    Refuses packages that break the layout (wrong magic or size) with FormatError."""
    if format not in READERS:
        raise ValueError(f"unknown TAIGA format {format!r}; expected one of {', '.join(READERS)}")
    layout = ksy.load(format)
    if format == "taiga_hiscore":
        blocked = _hiscore()
        sizes = blocked.package_bytes(packages[blocked.blocks_field][blocked.count_field].astype(np.int64))
        bad = np.flatnonzero(packages[blocked.size_field] != sizes - blocked.head.itemsize)
        if bad.size:
            raise FormatError(path, "package_size disagrees with the blocks", package=int(bad[0]),
                              expected=str(int(sizes[bad[0]] - blocked.head.itemsize)),
                              found=str(int(packages[blocked.size_field][bad[0]])))
        return _write_bytes(path, blocked.pack(packages))
    records = np.asarray(packages)
    if records.dtype != layout.record.dtype:
        records = records.astype(layout.record.dtype)
    violation = layout.first_violation(records)
    if violation is not None:
        raise violation.error(path, f"refusing to write: {violation.check.label} breaks the layout")
    return _write_bytes(path, records)
