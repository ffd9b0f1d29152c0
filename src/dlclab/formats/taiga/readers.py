"""Bulk readers of the TAIGA raw formats.

A file is memory-mapped and viewed as a numpy structured array whose dtype comes
from the format's ``.ksy`` (:mod:`dlclab.formats.taiga.layout`); nothing is parsed
object by object. The constants the ``.ksy`` declares (magic bytes, package sizes,
trailers) are checked vectorised over all packages, and any mismatch, a truncated
last package or bytes after the last package raises :class:`dlclab.errors.FormatError`
naming the file, the byte offset, the package index and what was expected.
``allow_truncated=True`` returns the valid prefix instead, with a warning.

Files larger than memory: ``Reader(path).iter_chunks(n)`` yields :class:`TaigaData`
of up to ``n`` records at a time from the memory map.
"""
from __future__ import annotations

import mmap
import os
import warnings
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from dlclab.errors import FormatError
from dlclab.formats.taiga import layout as ksy
from dlclab.formats.taiga.timestamp import decode_time_struct
from dlclab.formats.taiga.variable import BlockedLayout, blocked_layout
from dlclab.units import ns_of_day

DEFAULT_CHUNK_BYTES = 256 * 2**20


def _map(path: Path) -> np.ndarray:
    """The file's bytes as a read-only uint8 array over a memory map (empty for 0 bytes)."""
    size = path.stat().st_size
    if size == 0:
        return np.zeros(0, dtype=np.uint8)
    with open(path, "rb") as fh:
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    return np.frombuffer(mm, dtype=np.uint8)


def _first_occurrences(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first occurrence of each distinct value (file order) and its count."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # adjacent runs first: the common case (packages of one event are adjacent) is O(n)
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate([[0], change])
    runs = values[starts].astype(np.int64)
    if np.all(runs[1:] > runs[:-1]) or len(np.unique(runs)) == len(starts):
        counts = np.diff(np.concatenate([starts, [len(values)]]))
        return starts, counts
    _, first, counts = np.unique(values, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    return first[order], counts[order]


class TaigaData:
    """Decoded content of one TAIGA raw file (or one chunk of it).

    ``packages`` is the structured array of the raw fields, field names as in the
    ``.ksy`` (a view of the memory map where possible); ``events`` one row per event.
    """

    format: ClassVar[str] = ""

    def __init__(self, path: str | os.PathLike, packages: np.ndarray, *, truncated: bool = False,
                 first_record: int = 0) -> None:
        self.path = Path(path)
        self.packages = packages
        self.truncated = truncated
        self.first_record = first_record

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.format} {self.path.name}: "
                f"{self.n_packages} packages, {len(self.events)} events>")

    @property
    def layout(self) -> ksy.KsyLayout:
        return ksy.load(self.format)

    @property
    def n_packages(self) -> int:
        """DAQ packages (a Tunka link counts its data packages and its info package)."""
        return len(self.packages) * self.layout.packages_per_record

    @cached_property
    def events(self) -> pd.DataFrame:
        return self._events()

    def _events(self) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def clusters(self) -> list[int]:
        """Distinct clusters (stations for HiSCORE) in the file."""
        column = "cluster" if "cluster" in self.events else None
        return [] if column is None else sorted(int(c) for c in np.unique(self.events[column]))

    def summary(self) -> dict[str, Any]:
        """What ``dlclab inspect`` reports (without size and checksum)."""
        events = self.events
        ev = events["event_number"].to_numpy()
        t = events["time_ns"].to_numpy()
        from dlclab.units import format_ns_of_day

        optical = None
        if "optical_line_length" in events and len(events):
            values = np.unique(events["optical_line_length"])
            optical = int(values[0]) if len(values) == 1 else [int(v) for v in values]
        return {
            "format": self.format,
            "packages": int(self.n_packages),
            "events": int(len(np.unique(ev))),
            "first_event": int(ev[0]) if len(ev) else None,
            "last_event": int(ev[-1]) if len(ev) else None,
            "first_time": format_ns_of_day(t[0]) if len(t) else None,
            "last_time": format_ns_of_day(t[-1]) if len(t) else None,
            "clusters": self.clusters(),
            "optical_line_length": optical,
        }


class TunkaLinkData(TaigaData):
    """Tunka-133 / Tunka-Rex: one record is a link (N FADC packages + additional info)."""

    @property
    def fadc(self) -> np.ndarray:
        """FADC samples (n_events, channels, 512) uint16, ADC counts."""
        return self.packages["data"]["fadc"]

    @property
    def info(self) -> np.ndarray:
        """The additional-info packages (one per event)."""
        return self.packages["info"]

    def _events(self) -> pd.DataFrame:
        info = self.packages["info"]
        time_ns = ns_of_day(info["hour"], info["minute"], info["second"],
                            info["millisecond"].astype(np.int64) * 1_000_000)
        return pd.DataFrame({
            "event_number": info["event_number"].astype(np.int64),
            "time_ns": time_ns,
            "cluster": info["cluster_number"].astype(np.int64),
            "optical_line_length": info["optical_line_length"].astype(np.int64),
            "package_counter": info["package_counter"].astype(np.int64),
        })


class Tunka133Data(TunkaLinkData):
    format = "tunka133"


class TunkaRexData(TunkaLinkData):
    format = "tunka_rex"


class TunkaGrandeData(TaigaData):
    """Tunka-Grande: one package per link and event, 8 blocks of 1024 samples."""

    format = "tunka_grande"

    @property
    def samples(self) -> np.ndarray:
        """Samples (n_packages, 8, 1024) uint16, ADC counts."""
        return self.packages["blocks"]["samples"]

    @property
    def time_ns(self) -> np.ndarray:
        return decode_time_struct(self.packages["time"])

    def channel_bits(self, name: str) -> np.ndarray:
        """A bit field of the blocks' channel words (channel, bank, link), (n, 8)."""
        return self.layout.bits("channel_word", self.packages["blocks"]["channel_word"], name)

    @property
    def link(self) -> np.ndarray:
        """Link 1..4 of each package (data_type counts links from the .ksy's minimum)."""
        return self.packages["data_type"].astype(np.int64) - grande_link_base()

    def _events(self) -> pd.DataFrame:
        p = self.packages
        first, counts = _first_occurrences(p["event_number"])
        return pd.DataFrame({
            "event_number": p["event_number"][first].astype(np.int64),
            "time_ns": self.time_ns[first],
            "cluster": p["cluster_number"][first].astype(np.int64),
            "optical_line_length": p["optical_line_length"][first].astype(np.int64),
            "n_packages": counts.astype(np.int64),
        })


def grande_link_base() -> int:
    """``data_type`` of a Tunka-Grande package is this plus its link (1..4): the ``.ksy``'s
    ``valid`` range of ``data_type`` starts at link 1."""
    return ksy.load("tunka_grande").valid_range("data_type").min - 1


class TaigaIactData(TaigaData):
    """TAIGA-IACT: one package per MAROC board and event; an event spans boards."""

    format = "taiga_iact"

    @property
    def high_gain(self) -> np.ndarray:
        """High-gain amplitudes (n_packages, 32) uint16, ADC counts."""
        return self.packages["channels"]["high_gain"]

    @property
    def low_gain(self) -> np.ndarray:
        """Low-gain amplitudes (n_packages, 32) uint16, ADC counts."""
        return self.packages["channels"]["low_gain"]

    @property
    def board(self) -> np.ndarray:
        """MAROC board number of each package (first 5 bits of the MAROC word)."""
        return self.layout.bits("maroc_word", self.packages["maroc"], "board").astype(np.int64)

    @property
    def time_ns(self) -> np.ndarray:
        """Time of each package, ns since the start of the day."""
        return decode_time_struct(self.packages["time"])

    def _events(self) -> pd.DataFrame:
        p = self.packages
        first, counts = _first_occurrences(p["event_number"])
        return pd.DataFrame({
            "event_number": p["event_number"][first].astype(np.int64),
            "time_ns": self.time_ns[first],
            "n_packages": counts.astype(np.int64),
        })

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out["boards"] = sorted(int(b) for b in np.unique(self.board))
        return out


class TaigaHiscoreData(TaigaData):
    """TAIGA-HiSCORE: one variable-size package per station and event.

    ``packages`` is padded: ``samples`` (n, 9, max count) with zeros beyond each
    block's ``sample_count``; it still holds every byte of the file."""

    format = "taiga_hiscore"

    @property
    def traces(self) -> np.ndarray:
        """Samples (n_packages, 9, max count) uint16, zero-padded beyond sample_counts."""
        return self.packages["samples"]

    @property
    def offsets(self) -> np.ndarray:
        """First-sample position of each block in the readout window, (n, 9)."""
        return self.packages["blocks"]["offset"]

    @property
    def sample_counts(self) -> np.ndarray:
        """Samples in each block, (n, 9)."""
        return self.packages["blocks"]["sample_count"]

    @property
    def time_ns(self) -> np.ndarray:
        return decode_time_struct(self.packages["time"])

    @property
    def n_packages(self) -> int:
        return len(self.packages)

    def _events(self) -> pd.DataFrame:
        p = self.packages
        return pd.DataFrame({
            "event_number": p["event_number"].astype(np.int64),
            "time_ns": self.time_ns,
            "station": p["station_number"].astype(np.int64),
            "ip": p["ip"].astype(np.int64),
        })

    def clusters(self) -> list[int]:
        return sorted(int(s) for s in np.unique(self.events["station"]))


# -- readers ---------------------------------------------------------------------------
#: Every TAIGA raw format, by name, in the order detection tries them. A reader class
#: that sets ``format`` registers itself here (as ctapipe's event sources do): detection,
#: the writers, the simulator's facilities and the CLI's choices all derive from it.
READERS: dict[str, type[_Reader]] = {}


class _Reader:
    format: ClassVar[str]
    data_class: ClassVar[type[TaigaData]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "format" in cls.__dict__:
            if cls.format in READERS:
                raise TypeError(f"TAIGA format {cls.format!r} is registered twice")
            READERS[cls.format] = cls

    @classmethod
    def head_bytes(cls) -> int:
        """How many leading bytes :meth:`is_compatible` needs to decide."""
        raise NotImplementedError

    @classmethod
    def is_compatible(cls, head: bytes) -> bool:
        """True if a file starting with ``head`` (at least :meth:`head_bytes` bytes, or the
        whole file) is of this format, possibly truncated."""
        raise NotImplementedError

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FormatError(self.path, "no such file")

    @property
    def layout(self) -> ksy.KsyLayout:
        return ksy.load(self.format)

    def read(self, *, allow_truncated: bool = False) -> TaigaData:
        """The whole file; raises FormatError on any layout violation (see the module)."""
        raise NotImplementedError

    def _fail(self, error: FormatError, allow_truncated: bool) -> None:
        if not allow_truncated:
            raise error
        warnings.warn(f"returning the valid prefix only: {error}", stacklevel=3)


class _FixedRecordReader(_Reader):
    """Formats whose records all have one size (everything but HiSCORE)."""

    @classmethod
    def head_bytes(cls) -> int:
        # a whole first record: a Tunka-133 link decides between Tunka-133 and Tunka-Rex
        return ksy.load(cls.format).record.dtype.itemsize

    @classmethod
    def is_compatible(cls, head: bytes) -> bool:
        """Every ``.ksy`` constant of the first record that lies in ``head`` holds."""
        layout = ksy.load(cls.format)
        size = layout.record.dtype.itemsize
        available = min(len(head), size)
        if available < 8:
            return False
        padded = np.zeros(size, dtype=np.uint8)
        padded[:available] = np.frombuffer(head[:available], np.uint8)
        violation = layout.first_violation(padded.view(layout.record.dtype))
        # only a field reaching beyond the file's end failed: a truncated file of this format
        return violation is None or violation.offset + violation.check.width > available

    def _valid_records(self, raw: np.ndarray, allow_truncated: bool) -> tuple[np.ndarray, bool]:
        layout = self.layout
        dtype = layout.record.dtype
        size = dtype.itemsize
        n_full, rest = divmod(len(raw), size)
        records = raw[:n_full * size].view(dtype)
        error = self._check(records, 0)
        if error is None and rest:
            error = self._tail_error(raw[n_full * size:], n_full)
        if error is None:
            return records, False
        self._fail(error, allow_truncated)
        good = (error.offset or 0) // size
        return records[:good], True

    def _check(self, records: np.ndarray, first_record: int) -> FormatError | None:
        layout = self.layout
        violation = layout.first_violation(records, first_record)
        if violation is None:
            return None
        record_word = "link" if layout.packages_per_record > 1 else "package"
        return violation.error(self.path, f"{violation.what} ({record_word} {violation.record})")

    def _tail_error(self, tail: np.ndarray, n_full: int) -> FormatError:
        layout = self.layout
        size = layout.record.dtype.itemsize
        padded = np.zeros(size, dtype=np.uint8)
        padded[:len(tail)] = tail
        violation = layout.first_violation(padded.view(layout.record.dtype))
        start = n_full * size
        package_starts = layout.package_offsets()
        if violation is not None and violation.offset + violation.check.width <= len(tail):
            return FormatError(self.path, f"{len(tail)} bytes after the last complete package "
                               "that are not a package (garbage appended?)", offset=start,
                               package=n_full * layout.packages_per_record,
                               expected="end of file or a package start",
                               found=tail[:8].tobytes().hex(" "))
        k = max(p for p, off in package_starts if off <= len(tail) - 1)
        return FormatError(self.path, f"file ends inside package {k} of the last record "
                           "(truncated)", offset=start, package=n_full * layout.packages_per_record + k,
                           expected=f"{size} bytes for the record", found=f"{len(tail)} bytes")

    def read(self, *, allow_truncated: bool = False) -> TaigaData:
        raw = _map(self.path)
        records, truncated = self._valid_records(raw, allow_truncated)
        return self.data_class(self.path, records, truncated=truncated)

    def iter_chunks(self, records_per_chunk: int | None = None, *,
                    allow_truncated: bool = False) -> Iterator[TaigaData]:
        """Decode the file piece by piece (for files larger than memory).

        Each chunk is checked before it is yielded; a fault raises when its chunk is
        reached (or, with ``allow_truncated``, ends the iteration with a warning).
        Chunks are cut at record boundaries: a Tunka link is never split, but the
        packages of one IACT/Grande event may fall into two chunks (their event rows
        then appear in both)."""
        raw = _map(self.path)
        dtype = self.layout.record.dtype
        size = dtype.itemsize
        per_chunk = records_per_chunk or max(1, DEFAULT_CHUNK_BYTES // size)
        n_full, rest = divmod(len(raw), size)
        for first in range(0, n_full, per_chunk):
            stop = min(first + per_chunk, n_full)
            records = raw[first * size:stop * size].view(dtype)
            error = self._check(records, first)
            if error is not None:
                self._fail(error, allow_truncated)
                good = (error.offset or 0) // size - first
                if good:
                    yield self.data_class(self.path, records[:good], truncated=True, first_record=first)
                return
            yield self.data_class(self.path, records, first_record=first)
        if rest:
            self._fail(self._tail_error(raw[n_full * size:], n_full), allow_truncated)


class Tunka133Reader(_FixedRecordReader):
    """Tunka-133 files: links of 32 FADC packages + additional info (33318 bytes)."""

    format = "tunka133"
    data_class = Tunka133Data


class TunkaRexReader(_FixedRecordReader):
    """Tunka-Rex files: links of 4 FADC packages + additional info (4198 bytes)."""

    format = "tunka_rex"
    data_class = TunkaRexData


class TunkaGrandeReader(_FixedRecordReader):
    """Tunka-Grande files: 16476-byte packages of 8 x 1024 samples."""

    format = "tunka_grande"
    data_class = TunkaGrandeData


class TaigaIactReader(_FixedRecordReader):
    """TAIGA-IACT files: 156-byte MAROC board packages."""

    format = "taiga_iact"
    data_class = TaigaIactData


class TaigaHiscoreReader(_Reader):
    """TAIGA-HiSCORE files: variable-size station packages with 9 blocks of samples."""

    format = "taiga_hiscore"
    data_class = TaigaHiscoreData

    @property
    def blocked(self) -> BlockedLayout:
        return blocked_layout(self.format)

    @classmethod
    def head_bytes(cls) -> int:
        return blocked_layout(cls.format).head.itemsize

    @classmethod
    def is_compatible(cls, head: bytes) -> bool:
        blocked = blocked_layout(cls.format)
        return len(head) >= blocked.head.itemsize and head.startswith(blocked.magic)

    def _decode(self, raw: np.ndarray, start: int, max_packages: int | None,
                allow_truncated: bool, first_package: int = 0) -> tuple[np.ndarray, int, bool]:
        """(packages, end offset, truncated) of up to ``max_packages`` from byte ``start``;
        ``first_package`` is the index of the package at ``start`` (for messages)."""
        blocked = self.blocked
        starts, end, problem = blocked.scan(raw, start, max_packages)
        packages, tail_pos = blocked.unpack(raw, starts)
        error = None
        if len(starts):
            sizes = packages[blocked.size_field].astype(np.int64)
            expected_tail = starts + blocked.head.itemsize + sizes - blocked.tail.itemsize
            trailer_ok = np.ones(len(starts), bool)
            for name, value in blocked.tail_constants.items():
                trailer_ok &= np.all(packages[name] == np.frombuffer(value, np.uint8), axis=1)
            bad = np.flatnonzero((tail_pos != expected_tail) | ~trailer_ok)
            if bad.size:
                i = int(bad[0])
                if tail_pos[i] != expected_tail[i]:
                    error = FormatError(
                        self.path, "package_size disagrees with the blocks' sample counts",
                        offset=int(starts[i]), package=i,
                        expected=f"{int(tail_pos[i] - starts[i] - blocked.head.itemsize + blocked.tail.itemsize)}",
                        found=str(int(sizes[i])))
                else:
                    error = FormatError(self.path, "package does not end with its trailer",
                                        offset=int(tail_pos[i]), package=i,
                                        expected=" ".join(v.hex(" ") for v in blocked.tail_constants.values()),
                                        found=packages[blocked.tail.names[0]][i].tobytes().hex(" "))
                packages, end = packages[:i], int(starts[i])
        if error is None and problem is not None:
            n = len(starts)
            if problem == "truncated":
                error = FormatError(self.path, "file ends inside a package (truncated)", offset=end,
                                    package=n, expected="a whole package",
                                    found=f"{len(raw) - end} bytes")
            else:
                error = FormatError(self.path, "bytes after the last package that are not a "
                                    "package (garbage appended or wrong magic)", offset=end, package=n,
                                    expected=f"magic {blocked.magic.hex(' ')}",
                                    found=raw[end:end + 8].tobytes().hex(" "))
        if error is not None:
            if error.package is not None:
                error = FormatError(self.path, error.message, offset=error.offset,
                                    package=error.package + first_package,
                                    expected=error.expected, found=error.found)
            self._fail(error, allow_truncated)
            return packages, end, True
        return packages, end, False

    def read(self, *, allow_truncated: bool = False) -> TaigaData:
        raw = _map(self.path)
        packages, _, truncated = self._decode(raw, 0, None, allow_truncated)
        return TaigaHiscoreData(self.path, packages, truncated=truncated)

    def iter_chunks(self, packages_per_chunk: int = 100_000, *,
                    allow_truncated: bool = False) -> Iterator[TaigaData]:
        """Decode the file ``packages_per_chunk`` packages at a time."""
        raw = _map(self.path)
        pos, first = 0, 0
        while pos < len(raw):
            packages, pos, truncated = self._decode(raw, pos, packages_per_chunk, allow_truncated,
                                                    first_package=first)
            if len(packages):
                yield TaigaHiscoreData(self.path, packages, truncated=truncated, first_record=first)
            first += len(packages)
            if truncated or not len(packages):
                return


def detect_taiga_format(head: bytes) -> str | None:
    """The TAIGA format of a file starting with ``head``, or None (formats tried in
    registration order)."""
    return next((name for name, reader in READERS.items() if reader.is_compatible(head)), None)


def detection_head_bytes() -> int:
    """Leading bytes of a file that are enough to tell every TAIGA format."""
    return max(reader.head_bytes() for reader in READERS.values())


def reader_for(path: str | os.PathLike, format: str | None = None) -> _Reader:  # noqa: A002
    """The reader of ``path`` (format detected from the bytes unless given)."""
    if format is None:
        from dlclab.formats.detect import detect_format

        format = detect_format(path)
    if format not in READERS:
        raise FormatError(path, "not a TAIGA raw format", expected=", ".join(READERS), found=format)
    return READERS[format](path)


def read_file(path: str | os.PathLike, format: str | None = None, *,  # noqa: A002
              allow_truncated: bool = False) -> TaigaData:
    """Read a TAIGA raw file.

    ``format`` is one of ``tunka133 tunka_rex tunka_grande taiga_iact taiga_hiscore``;
    by default it is detected from the bytes. Any layout violation raises FormatError;
    ``allow_truncated=True`` returns the valid prefix with a warning instead."""
    return reader_for(path, format).read(allow_truncated=allow_truncated)
