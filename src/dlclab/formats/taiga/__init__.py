"""TAIGA / Tunka raw formats: Tunka-133, Tunka-Rex, Tunka-Grande, TAIGA-IACT, TAIGA-HiSCORE.

The layouts are written once, as Kaitai Struct descriptions in ``ksy/*.ksy``; the bulk
decoder and the writers derive their numpy dtypes from them (:mod:`.layout`).

    >>> from dlclab.formats.taiga import read_file
    >>> data = read_file("t133.001")            # format detected from the bytes
    >>> data.events.head()                      # one row per event
    >>> data.fadc.shape                         # (n_events, 32, 512) uint16
"""
from __future__ import annotations

from dlclab.formats.taiga.readers import (
    READERS,
    TaigaData,
    TaigaHiscoreData,
    TaigaHiscoreReader,
    TaigaIactData,
    TaigaIactReader,
    Tunka133Data,
    Tunka133Reader,
    TunkaGrandeData,
    TunkaGrandeReader,
    TunkaRexData,
    TunkaRexReader,
    detect_taiga_format,
    detection_head_bytes,
    read_file,
    reader_for,
)
from dlclab.formats.taiga.timestamp import decode_time_stamp, encode_time_stamp
from dlclab.formats.taiga.writers import (
    write_packages,
    write_taiga_hiscore,
    write_taiga_iact,
    write_tunka133,
    write_tunka_grande,
    write_tunka_rex,
)

#: The formats' names (as ``TaigaData.format`` and ``dlclab inspect`` give them), in the
#: order detection tries them: the registry's keys (:data:`READERS`).
FORMATS = tuple(READERS)

__all__ = [
    "FORMATS", "READERS", "TaigaData", "TaigaHiscoreData", "TaigaHiscoreReader", "TaigaIactData",
    "TaigaIactReader", "Tunka133Data", "Tunka133Reader", "TunkaGrandeData", "TunkaGrandeReader",
    "TunkaRexData", "TunkaRexReader", "decode_time_stamp", "detect_taiga_format",
    "detection_head_bytes", "encode_time_stamp", "read_file",
    "reader_for", "write_packages", "write_taiga_hiscore", "write_taiga_iact", "write_tunka133",
    "write_tunka_grande", "write_tunka_rex",
]
