"""Asynchronous export requests (like a KCDC DataShop selection).

A request names a file-level query (time range, facility, release, ...), components
(facilities / experiments), quantities (thesaurus terms) and cuts; a worker thread reads
the matching files through the storage adapters, applies the cuts, writes ASCII / HDF5 /
ROOT and marks the request done with an expiry. Access is checked when the request is
made *and* again when it runs, so a request never returns data its owner may not see; the
storages and releases it was made from are recorded (:mod:`dlclab.service.access`) so that
status and download can check them again against the owner's groups at that time. Each
owner's live exports are limited in number and bytes (:mod:`dlclab.service.quota`).
"""
from __future__ import annotations

import io
import logging
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dlclab.errors import DlclabError, ParameterError
from dlclab.metadata.mapping import load_mappings
from dlclab.metadata.models import ExportRequest, utcnow
from dlclab.metadata.query import Cut, FileQuery, query_files, visibility
from dlclab.metadata.readers import read_kcdc, read_parquet, read_taiga
from dlclab.metadata.thesaurus import default_thesaurus
from dlclab.service.access import sources_of
from dlclab.service.adapters import StorageUnavailable, adapter_for
from dlclab.service.quota import Quota
from dlclab.service.writers import FORMATS, write_export

log = logging.getLogger(__name__)
#: columns that identify an event and always travel with the selected quantities
ID_COLUMNS = ("uuid", "event_number", "time_ns", "gps_time_s", "Gt", "Mt", "R", "Ev")
MAX_FILES = 1000


class _Deleted(Exception):
    """The request was deleted by its owner while it ran: the worker drops its output."""


class ExportManager:
    def __init__(self, engine: Engine, export_dir: Path, ttl: timedelta, workers: int,
                 max_events: int, quota: Quota) -> None:
        self.engine = engine
        self.export_dir = export_dir
        self.ttl = ttl
        self.max_events = max_events
        self.quota = quota
        # quota check and insert (or size check and completion) happen under this lock,
        # so concurrent requests of one user cannot both take the last place
        self._quota_lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export")
        self.mappings = load_mappings()
        export_dir.mkdir(parents=True, exist_ok=True)

    def submit(self, owner: str, groups: frozenset[str], parameters: dict,
               query: FileQuery, cuts: list[Cut], quantities: list[str]) -> ExportRequest:
        """Store a request and queue it; :class:`~dlclab.service.quota.QuotaExceeded` if the
        owner's quota has no room for it."""
        now = utcnow()
        with self._quota_lock, Session(self.engine, expire_on_commit=False) as session, \
                session.begin():
            self.quota.check_new(self.quota.usage(session, owner))
            request = ExportRequest(owner=owner, created_utc=now, updated_utc=now,
                                    expires_utc=now + self.ttl, status="queued",
                                    parameters=parameters)
            session.add(request)
        self.pool.submit(self._run, request.id, groups, query, cuts, quantities)
        return request

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)

    # -- the worker ---------------------------------------------------------------------
    def delete(self, request_id: str) -> None:
        """Remove a request and its file (a running one's worker drops its output)."""
        with Session(self.engine) as session, session.begin():
            request = session.get(ExportRequest, request_id)
            if request is None:
                return
            if request.result_name:
                (self.export_dir / request.result_name).unlink(missing_ok=True)
            session.delete(request)

    def _set(self, request_id: str, **values: object) -> None:
        with Session(self.engine) as session, session.begin():
            request = session.get(ExportRequest, request_id)
            if request is None:
                raise _Deleted(request_id)
            for key, value in values.items():
                setattr(request, key, value)
            request.updated_utc = utcnow()

    def _run(self, request_id: str, groups: frozenset[str], query: FileQuery, cuts: list[Cut],
             quantities: list[str]) -> None:
        """The worker: run the request, record a failure for its owner."""
        try:
            try:
                self._execute(request_id, groups, query, cuts, quantities)
            except DlclabError as exc:
                self._set(request_id, status="failed", error=str(exc))
            except _Deleted:
                raise
            except Exception as exc:  # noqa: BLE001 - reported to the owner, logged for operators
                log.exception("export %s failed", request_id)
                self._set(request_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        except _Deleted:
            log.info("export %s was deleted while it ran", request_id)
            self._drop_output(request_id)

    def _execute(self, request_id: str, groups: frozenset[str], query: FileQuery,
                 cuts: list[Cut], quantities: list[str]) -> None:
        self._set(request_id, status="running")
        with Session(self.engine) as session:
            request = session.get(ExportRequest, request_id)
            if request is None:
                raise _Deleted(request_id)
            params = request.parameters
            seen = visibility(session, groups)
            query.limit, query.offset = MAX_FILES, 0
            files, more = query_files(session, query, seen)
            if more:
                raise ParameterError(f"the query matches more than {MAX_FILES} files: "
                                     "narrow the time range or the facility")
            sources = [(f.storage.url, f.path, f.facility.name) for f in files]
            names = {adapter_for(f.storage.url).url: f.storage.name for f in files}
            made_from = sources_of(files)
        self._set(request_id, sources=made_from)
        try:
            self._make(request_id, params, sources, cuts, quantities)
        except StorageUnavailable as exc:
            # nothing is recorded complete: the request fails naming the instance
            self._drop_output(request_id)
            name = names.get(exc.url, exc.url)
            raise DlclabError(f"storage instance {name} is unavailable ({exc.reason}); "
                              "nothing was exported: request again when it is back") from exc

    def _make(self, request_id: str, params: dict, sources: list[tuple[str, str, str]],
              cuts: list[Cut], quantities: list[str]) -> None:
        fmt = params["format"]
        name = f"{request_id}{FORMATS[fmt]}"
        components = list(params.get("components") or [])
        if sources and all(self._reader_of(rel) == "kcdc" for _, rel, _ in sources):
            n_events = self._kcdc_datashop(sources, cuts, quantities, components, fmt,
                                           self.export_dir / name)
        else:
            tables = self._tables(sources, cuts, quantities, set(components))
            n_events = sum(len(df) for df in tables.values())
            self._check_size(n_events)
            info = {"request": request_id, "format": fmt, "files": len(sources),
                    "query": params.get("query"), "cuts": params.get("cuts"),
                    "quantities": quantities, "components": sorted(tables),
                    "licence": "see the releases' records (OAI-PMH) for each file's licence"}
            write_export(tables, info, fmt, self.export_dir / name)
        self._finish(request_id, name, n_events)

    def _finish(self, request_id: str, name: str, n_events: int) -> None:
        """Mark the request done, unless its file passes the owner's byte quota (then the
        file goes and the request fails, saying so)."""
        size = (self.export_dir / name).stat().st_size
        with self._quota_lock:
            with Session(self.engine) as session:
                request = session.get(ExportRequest, request_id)
                if request is None:
                    raise _Deleted(request_id)
                usage = self.quota.usage(session, request.owner, excluding=request_id)
            try:
                self.quota.check_result(usage, size)
            except DlclabError:
                (self.export_dir / name).unlink(missing_ok=True)
                raise
            self._set(request_id, status="done", result_name=name, n_events=n_events,
                      size_bytes=size)

    def _drop_output(self, request_id: str) -> None:
        for suffix in FORMATS.values():
            for path in (self.export_dir / f"{request_id}{suffix}",
                         self.export_dir / f"{request_id}{suffix}.part"):
                path.unlink(missing_ok=True)

    def _check_size(self, n_events: int) -> None:
        if n_events > self.max_events:
            raise ParameterError(f"the selection has {n_events} events, more than the "
                                 f"{self.max_events} one export may hold: add cuts")

    def _reader_of(self, relpath: str) -> str | None:
        for mapping in self.mappings:
            if mapping.match(relpath) is not None:
                return mapping.reader
        return None

    def _kcdc_datashop(self, sources: list[tuple[str, str, str]], cuts: list[Cut],
                       quantities: list[str], components: list[str], fmt: str,
                       out: Path) -> int:
        """KCDC exports in, a KCDC export out: the KASCADE engineer's DataShop
        (``dlclab.formats.kcdc.export_selection``) with the thesaurus terms translated to
        KCDC's quantity names (the same units: E in eV, Ze in degrees, Xc in metres)."""
        import shutil
        import zipfile

        from dlclab.formats.kcdc import export_selection, read_export

        thesaurus = default_thesaurus()

        def kcdc_name(term: str) -> str:
            syn = thesaurus.synonym_for(term, "kascade")
            if syn is None:
                raise ParameterError(f"{term!r} has no KCDC quantity (see /api/terms)")
            return syn.name

        merged: dict[str, list[pd.DataFrame]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for i, (url, relpath, _) in enumerate(sources):
                local = Path(tmp) / f"in{i}"
                local.mkdir()
                adapter = adapter_for(url)
                folder = relpath.rsplit("/", 1)[0]
                names = ([n for n in ("general", "array", "grande", "calorimeter", "truth")]
                         if relpath.endswith("general.txt") else [])
                if names:  # an ASCII export is a folder of component tables + Info.txt
                    for file_name in [f"{n}.txt" for n in names] + ["Info.txt"]:
                        try:
                            adapter.fetch(f"{folder}/{file_name}", str(local / file_name))
                        except FileNotFoundError:
                            pass
                    export = read_export(local)
                else:
                    target = local / relpath.rsplit("/", 1)[1]
                    adapter.fetch(relpath, str(target))
                    export = read_export(target)
                for component, table in export.tables.items():
                    merged.setdefault(component, []).append(table)
            tables = {c: pd.concat(frames, ignore_index=True) for c, frames in merged.items()}
            cut_texts = []
            for cut in cuts:
                q = kcdc_name(cut.term)
                if cut.lo is not None:
                    cut_texts.append(f"{q}>={cut.lo!r}")
                if cut.hi is not None:
                    cut_texts.append(f"{q}<={cut.hi!r}")
            written = export_selection(tables, cut_texts, components or None,
                                       [kcdc_name(q) for q in quantities] or None,
                                       fmt.lower(), Path(tmp) / "out")
            selected = read_export(written)
            self._check_size(len(selected))
            part = out.with_name(out.name + ".part")
            if fmt == "ASCII":
                with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                    for file in sorted(Path(written).iterdir()):
                        zf.write(file, file.name)
            else:
                shutil.copyfile(written, part)
            part.replace(out)
            return len(selected)

    def _read(self, url: str, relpath: str):
        adapter = adapter_for(url)
        for mapping in self.mappings:
            if mapping.match(relpath) is None:
                continue
            if mapping.reader == "parquet":
                return pd.read_parquet(io.BytesIO(adapter.read_bytes(relpath)))
            with tempfile.TemporaryDirectory() as tmp:
                local = Path(tmp) / Path(relpath).name
                adapter.fetch(relpath, str(local))
                if mapping.reader == "taiga":
                    return read_taiga(local, mapping.reader_format).events
                return read_kcdc(local).events
        raise ParameterError(f"{relpath}: no facility mapping claims this file")

    def _tables(self, sources: list[tuple[str, str, str]], cuts: list[Cut], quantities: list[str],
                components: set[str]) -> dict[str, pd.DataFrame]:
        thesaurus = default_thesaurus()
        wanted_terms = [thesaurus.resolve(q).term.name for q in quantities]
        parts: dict[str, list[pd.DataFrame]] = {}
        for url, relpath, component in sources:
            if components and component not in components:
                continue
            events = self._read(url, relpath)
            by_term = {term: (column, convert) for column, (term, convert)
                       in thesaurus.column_map(list(events.columns)).items()}
            keep = np.ones(len(events), dtype=bool)
            for cut in cuts:
                if cut.term not in by_term:
                    raise ParameterError(f"cut on {cut.term!r}: {component} files have no such "
                                         "quantity; drop the cut or the component")
                column, convert = by_term[cut.term]
                values = pd.to_numeric(events[column], errors="coerce").to_numpy(dtype=float)
                values = np.vectorize(convert, otypes=[float])(values) if len(values) else values
                if cut.lo is not None:
                    keep &= values >= cut.lo
                if cut.hi is not None:
                    keep &= values <= cut.hi
            columns = [c for c in ID_COLUMNS if c in events.columns]
            for term in wanted_terms:
                if term not in by_term:
                    raise ParameterError(f"quantity {term!r}: {component} files have no such "
                                         "quantity")
                if by_term[term][0] not in columns:
                    columns.append(by_term[term][0])
            parts.setdefault(component, []).append(events.loc[keep, columns])
        return {c: pd.concat(frames, ignore_index=True) for c, frames in parts.items()}

    def expire(self) -> int:
        """Delete the files of expired requests; the requests stay (status ``expired``)."""
        now, n = utcnow(), 0
        with Session(self.engine) as session, session.begin():
            for request in session.scalars(select(ExportRequest).where(
                    ExportRequest.expires_utc < now, ExportRequest.status == "done")):
                if request.result_name:
                    (self.export_dir / request.result_name).unlink(missing_ok=True)
                request.status, n = "expired", n + 1
        return n
