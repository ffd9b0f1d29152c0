"""The 8-byte TAIGA time stamp (four u2 words d0..d3), vectorised.

Bit layout (DOMAIN.md section 2; also the value instances of ``time_stamp`` in the
``.ksy`` files): ns = (d0 & 0x7f) * 10; us = ((d0 & 0xff80) >> 7) | ((d1 & 1) << 9);
ms = (d1 & 0x7fe) >> 1; s = ((d1 & 0xf800) >> 11) | ((d2 & 1) << 5);
min = (d2 & 0x7e) >> 1; h = (d2 & 0xf80) >> 7; d3 unused. The resolution is 10 ns;
the date is not in the stamp (it comes from the folder or file name).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dlclab.units import NS_PER_DAY, ns_of_day

#: Resolution of the stamp: times are stored in units of 10 ns.
TIME_STAMP_RESOLUTION_NS = 10


def decode_time_stamp(d0: ArrayLike, d1: ArrayLike, d2: ArrayLike) -> NDArray[np.int64]:
    """Time-stamp words -> ns since the start of the day (int64). d3 is unused."""
    w0 = np.asarray(d0, dtype=np.int64)
    w1 = np.asarray(d1, dtype=np.int64)
    w2 = np.asarray(d2, dtype=np.int64)
    ns = (w0 & 0x7F) * 10
    us = ((w0 & 0xFF80) >> 7) | ((w1 & 1) << 9)
    ms = (w1 & 0x7FE) >> 1
    s = ((w1 & 0xF800) >> 11) | ((w2 & 1) << 5)
    minute = (w2 & 0x7E) >> 1
    hour = (w2 & 0xF80) >> 7
    return ns_of_day(hour, minute, s, (ms * 1000 + us) * 1000 + ns)


def decode_time_struct(stamp: np.ndarray) -> NDArray[np.int64]:
    """Decode a structured ``time_stamp`` array (fields d0..d3, as the .ksy names them)."""
    return decode_time_stamp(stamp["d0"], stamp["d1"], stamp["d2"])


def encode_time_stamp(time_ns: ArrayLike) -> NDArray[np.uint16]:
    """ns since the start of the day -> words (..., 4) uint16 (d3 = 0).

    The stamp counts in 10 ns: the sub-10-ns part is dropped (documented resolution).
    Raises ValueError outside [0, 24 h)."""
    t = np.asarray(time_ns, dtype=np.int64)
    if np.any((t < 0) | (t >= NS_PER_DAY)):
        raise ValueError("time_ns must be within [0, 86400e9) ns since the start of the day")
    tens = (t % 1000) // 10
    us = (t // 1000) % 1000
    ms = (t // 1_000_000) % 1000
    s = (t // 1_000_000_000) % 60
    minute = (t // 60_000_000_000) % 60
    hour = t // 3_600_000_000_000
    out = np.zeros(t.shape + (4,), dtype=np.uint16)
    out[..., 0] = tens | ((us & 0x1FF) << 7)
    out[..., 1] = (us >> 9) | (ms << 1) | ((s & 0x1F) << 11)
    out[..., 2] = (s >> 5) | (minute << 1) | (hour << 7)
    return out
