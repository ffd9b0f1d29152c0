"""The extractor of a storage instance's ingest pipeline (GRADLCI E1 / E2).

It walks a storage, lets the first facility mapping whose path pattern matches claim each
file, decodes the file with the mapping's reader, derives the file-level attributes and
the per-term event summaries, and writes them to the catalogue:

* E1 - a path the catalogue has not seen: a new digital object (UUID) with version 1.
* E2 - a known path whose content changed (reprocessed): the object keeps its UUID and
  gains a new version; the previous version stays for provenance.

Each file is one transaction, so a killed run leaves only whole files behind and the next
run continues where it stopped. An unchanged file (same size and mtime, or the same
sha256 with ``verify=True``) is left alone: re-running changes nothing. A file that does
not decode is recorded with its error and the run goes on.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from dlclab.errors import DlclabError, ParameterError
from dlclab.metadata.mapping import FacilityMapping, load_mappings
from dlclab.metadata.models import (
    PUBLIC,
    AccessGroup,
    DataFile,
    Equipment,
    EventSummary,
    Facility,
    FileVersion,
    Release,
    Run,
    StorageInstance,
    ThesaurusTerm,
    utcnow,
)
from dlclab.metadata.readers import Decoded, read_kcdc, read_parquet, read_taiga
from dlclab.metadata.thesaurus import Thesaurus, default_thesaurus
from dlclab.store.manifest import sha256_file



def group_of(access: str) -> str:
    """``public`` / ``collaboration:taiga`` / ``taiga`` -> the access group's name."""
    access = (access or PUBLIC).strip()
    return access.split(":", 1)[1] if access.startswith("collaboration:") else access


@dataclass(frozen=True)
class StorageSpec:
    """A storage instance: its name, local root, experiment and default access group.

    ``url`` is where the Data Aggregation Service reaches it (fsspec URL); by default the
    local root itself.
    """

    name: str
    root: Path
    experiment: str
    access: str = PUBLIC
    url: str | None = None
    description: str = ""

    @property
    def service_url(self) -> str:
        return self.url or self.root.resolve().as_uri()


@dataclass
class Candidate:
    relpath: str
    path: Path
    mapping: FacilityMapping
    hidden: dict[str, str]
    size_bytes: int
    mtime_ns: int


@dataclass
class ExtractionSummary:
    files: int = 0
    bytes: int = 0
    new_objects: int = 0
    new_versions: int = 0
    unchanged: int = 0
    errors: int = 0
    unrecognised: int = 0
    error_messages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "error_messages"}

    def text(self) -> str:
        lines = [
            f"files {self.files}, {self.bytes / 1e6:.1f} MB; objects: {self.new_objects} new, "
            f"{self.new_versions} new versions (E2), {self.unchanged} unchanged; "
            f"errors {self.errors}; not claimed by any mapping {self.unrecognised}"]
        lines += [f"  error: {m}" for m in self.error_messages]
        return "\n".join(lines)


def _scalar(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return value


def aggregate(decoded: Decoded, column: str | None, source: str, agg: str) -> object:
    """One meta-data field of a mapping, derived from the decoded file."""
    if source == "packages":
        return decoded.n_packages
    if column == "*":
        return int(len(decoded.events)) if agg == "count" else None
    values = decoded.column(source, column or "")
    if values is None or len(values) == 0:
        return None
    if agg == "count":
        return int(values.count())
    if agg == "nunique":
        return int(values.nunique())
    if agg == "first":
        return _scalar(values.iloc[0])
    if agg == "last":
        return _scalar(values.iloc[-1])
    if agg == "min":
        return _scalar(values.min())
    if agg == "max":
        return _scalar(values.max())
    uniques = pd.unique(values.dropna())
    # "unique": one value for the file, or the list when it holds several
    return _scalar(uniques[0]) if len(uniques) == 1 else sorted(_scalar(u) for u in uniques)


class Extractor:
    """Extract one storage instance into the catalogue (see the module docstring)."""

    def __init__(self, engine: Engine, storage: StorageSpec,
                 mappings: list[FacilityMapping] | None = None,
                 thesaurus: Thesaurus | None = None, *, verify: bool = False) -> None:
        if not storage.root.is_dir():
            raise ParameterError(f"storage {storage.name!r}: {storage.root} is not a directory")
        self.engine = engine
        self.storage = storage
        self.mappings = mappings if mappings is not None else load_mappings()
        self.thesaurus = thesaurus or default_thesaurus()
        self.verify = verify
        self._storage_id: int | None = None
        self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
        with Session(engine) as session:
            self.term_ids = dict(session.execute(select(ThesaurusTerm.name, ThesaurusTerm.id)).all())

    @property
    def storage_id(self) -> int:
        """The storage's catalogue id (registered, or updated, on first use)."""
        if self._storage_id is None:
            self._storage_id = self._register_storage()
        return self._storage_id

    # -- discovery -------------------------------------------------------------------
    def _register_storage(self) -> int:
        with Session(self.engine) as session, session.begin():
            group = self._group(session, group_of(self.storage.access))
            row = session.scalar(select(StorageInstance).where(
                StorageInstance.name == self.storage.name))
            if row is None:
                row = StorageInstance(name=self.storage.name, url=self.storage.service_url,
                                      experiment=self.storage.experiment,
                                      access_group_id=group.id,
                                      description=self.storage.description)
                session.add(row)
            else:
                row.url, row.experiment, row.access_group_id = (
                    self.storage.service_url, self.storage.experiment, group.id)
            session.flush()
            return row.id

    def candidates(self) -> tuple[list[Candidate], int]:
        """The files some mapping claims (sorted by path) and the count of the others."""
        found, unrecognised = [], 0
        root = self.storage.root
        for directory, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(files):
                path = Path(directory) / name
                relpath = path.relative_to(root).as_posix()
                for mapping in self.mappings:
                    hidden = mapping.match(relpath)
                    if hidden is not None:
                        st = path.stat()
                        found.append(Candidate(relpath, path, mapping, hidden, st.st_size,
                                               st.st_mtime_ns))
                        break
                else:
                    if name != "manifest.json" and not name.startswith("."):
                        unrecognised += 1
        return found, unrecognised

    # -- the run ---------------------------------------------------------------------
    def run(self, progress: Callable[[Candidate], None] | None = None,
            candidates: Iterable[Candidate] | None = None) -> ExtractionSummary:
        summary = ExtractionSummary()
        if candidates is None:
            candidates, summary.unrecognised = self.candidates()
        known = self._known_state()
        for cand in candidates:
            outcome, message = self.extract(cand, known.get(cand.relpath))
            summary.files += 1
            summary.bytes += cand.size_bytes
            if outcome == "new":
                summary.new_objects += 1
            elif outcome == "version":
                summary.new_versions += 1
            else:
                summary.unchanged += 1
            if message:
                summary.errors += 1
                summary.error_messages.append(message)
            if progress:
                progress(cand)
        return summary

    def _known_state(self) -> dict[str, tuple[int, int, str, int]]:
        """path -> (size, mtime_ns, sha256, version) of each catalogued current version."""
        with Session(self.engine) as session:
            rows = session.execute(
                select(DataFile.path, FileVersion.size_bytes, FileVersion.mtime_ns,
                       FileVersion.sha256, FileVersion.version)
                .join(FileVersion, (FileVersion.file_id == DataFile.id)
                      & (FileVersion.version == DataFile.current_version))
                .where(DataFile.storage_id == self.storage_id))
            return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}

    def extract(self, cand: Candidate, known: tuple[int, int, str, int] | None = None
                ) -> tuple[str, str | None]:
        """Extract one file: ('new' | 'version' | 'unchanged', error message or None)."""
        if known and not self.verify and known[0] == cand.size_bytes and known[1] == cand.mtime_ns:
            return "unchanged", None
        if known:  # a known file: its checksum decides whether there is anything to do
            sha256 = sha256_file(cand.path)
            if known[2] == sha256:
                return "unchanged", None
            hashing = None
        else:  # a new file: hash (hashlib releases the GIL) while the reader decodes
            hashing = self._hasher.submit(sha256_file, cand.path)
        error: str | None = None
        decoded: Decoded | None = None
        try:
            decoded = self._decode(cand)
        except DlclabError as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - any decoder failure is a parse error of the file
            error = f"{cand.path}: {type(exc).__name__}: {exc}"
        if hashing is not None:
            sha256 = hashing.result()
        outcome = self._write(cand, sha256, decoded, error)
        return outcome, (f"{cand.relpath}: {error}" if error else None)

    def _decode(self, cand: Candidate) -> Decoded:
        mapping = cand.mapping
        if mapping.reader == "taiga":
            return read_taiga(cand.path, mapping.reader_format)
        if mapping.reader == "parquet":
            return read_parquet(cand.path, None)
        return read_kcdc(cand.path)

    # -- writing one file (one transaction) -------------------------------------------
    def _write(self, cand: Candidate, sha256: str, decoded: Decoded | None,
               error: str | None) -> str:
        mapping, hidden = cand.mapping, cand.hidden
        self.storage_id  # noqa: B018 - register the storage before this file's transaction
        fields: dict[str, object] = {}
        summaries: list[tuple[str, int, float | None, float | None]] = []
        if decoded is not None:
            for rule in mapping.fields:
                fields[rule.name] = aggregate(decoded, rule.column, rule.source, rule.agg)
            for column, (term, convert) in self.thesaurus.column_map(
                    list(decoded.events.columns)).items():
                values = pd.to_numeric(decoded.events[column], errors="coerce").dropna()
                if len(values):
                    summaries.append((term, int(len(values)), convert(values.min()),
                                      convert(values.max())))
        file_date = _parse_date(hidden.get("date"))
        first_ns, last_ns = fields.pop("first_time_ns", None), fields.pop("last_time_ns", None)
        first_s, last_s = fields.pop("first_time_s", None), fields.pop("last_time_s", None)
        # the time range covers every event (DAQ times need not be monotonic)
        min_ns, max_ns = fields.pop("time_min_ns", first_ns), fields.pop("time_max_ns", last_ns)
        start_utc = _to_utc(file_date, min_ns, first_s)
        end_utc = _to_utc(file_date, max_ns, last_s)
        cluster, station = fields.pop("cluster", None), fields.pop("station", None)
        if isinstance(cluster, list):
            fields["clusters"], cluster = cluster, None
        if isinstance(station, list):
            fields["stations"], station = station, None
        optical = fields.pop("optical_line_length", None)
        if isinstance(optical, list):
            fields["optical_line_lengths"], optical = optical, None
        n_packages = fields.pop("n_packages", None)
        n_events = fields.pop("n_events", None)
        first_event, last_event = fields.pop("first_event", None), fields.pop("last_event", None)
        seq = hidden.get("sequence")
        attributes = {k: v for k, v in fields.items() if v is not None}
        attributes.update({k: v for k, v in hidden.items() if k not in {"date", "sequence", "name"}})

        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            facility = self._facility(session, mapping, hidden)
            release = self._release(session, cand, mapping, hidden)
            run = self._run(session, facility, file_date)
            for kind, number in (("cluster", cluster), ("station", station)):
                if number is not None:
                    self._equipment(session, facility, kind, int(number))
            row = session.scalar(select(DataFile).where(DataFile.storage_id == self.storage_id,
                                                        DataFile.path == cand.relpath))
            if row is None:
                row = DataFile(storage_id=self.storage_id, path=cand.relpath, current_version=1)
                session.add(row)
                version, outcome, kind = 1, "new", "E1"
            else:
                current = session.scalar(select(FileVersion).where(
                    FileVersion.file_id == row.id, FileVersion.version == row.current_version))
                if current is not None and current.sha256 == sha256:
                    # same content, only touched: remember the new mtime, nothing else changes
                    current.mtime_ns, current.size_bytes = cand.mtime_ns, cand.size_bytes
                    return "unchanged"
                version, outcome, kind = row.current_version + 1, "version", "E2"
                session.execute(update(EventSummary).where(EventSummary.file_id == row.id)
                                .values(current=False))
            row.facility_id, row.release_id = facility.id, release.id if release else None
            row.run_id, row.date = (run.id if run else None), file_date
            row.sequence_number = int(seq) if seq else None
            row.current_version = version
            row.start_utc, row.end_utc, row.cluster, row.station = start_utc, end_utc, \
                _int(cluster), _int(station)
            row.span_s = (end_utc - start_utc).total_seconds() if start_utc and end_utc else None
            row.n_events, row.size_bytes = int(n_events or 0), cand.size_bytes
            row.status = "error" if error else "ok"
            session.flush()
            fv = FileVersion(
                file_id=row.id, version=version, path_kind=kind, sha256=sha256,
                size_bytes=cand.size_bytes, mtime_ns=cand.mtime_ns, extracted_utc=utcnow(),
                status=row.status, parse_error=error, n_packages=_int(n_packages),
                n_events=_int(n_events), first_event=_int(first_event), last_event=_int(last_event),
                first_time_ns=_int(first_ns), last_time_ns=_int(last_ns), start_utc=start_utc,
                end_utc=end_utc, cluster=_int(cluster), station=_int(station),
                optical_line_length=_int(optical), attributes=_jsonable(attributes))
            session.add(fv)
            session.flush()
            for term, n, lo, hi in summaries:
                session.add(EventSummary(file_version_id=fv.id, file_id=row.id,
                                         term_id=self.term_ids[term], n=n, min_value=lo,
                                         max_value=hi, current=True))
        return outcome

    def _group(self, session: Session, name: str) -> AccessGroup:
        group = session.scalar(select(AccessGroup).where(AccessGroup.name == name))
        if group is None:
            group = AccessGroup(name=name, description=f"collaboration {name}")
            session.add(group)
            session.flush()
        return group

    def _facility(self, session: Session, mapping: FacilityMapping, hidden: dict) -> Facility:
        name = mapping.expand(mapping.facility, hidden)
        row = session.scalar(select(Facility).where(Facility.name == name))
        if row is None:
            row = Facility(name=name, experiment=mapping.expand(mapping.experiment, hidden),
                           title=mapping.expand(mapping.title, hidden),
                           description_file=mapping.description)
            session.add(row)
            session.flush()
        return row

    def _run(self, session: Session, facility: Facility, file_date: date | None) -> Run | None:
        if file_date is None:
            return None
        name = file_date.isoformat()
        row = session.scalar(select(Run).where(Run.facility_id == facility.id, Run.name == name))
        if row is None:
            row = Run(facility_id=facility.id, name=name, date=file_date)
            session.add(row)
            session.flush()
        return row

    def _equipment(self, session: Session, facility: Facility, kind: str, number: int) -> None:
        exists = session.scalar(select(Equipment.id).where(
            Equipment.facility_id == facility.id, Equipment.kind == kind, Equipment.number == number))
        if exists is None:
            session.add(Equipment(facility_id=facility.id, kind=kind, number=number))
            session.flush()

    def _release(self, session: Session, cand: Candidate, mapping: FacilityMapping,
                 hidden: dict) -> Release | None:
        name = hidden.get("release")
        if not name:
            return None
        experiment = mapping.expand(mapping.experiment, hidden)
        manifest = _manifest_for(cand.path, name)
        access = manifest.get("access", mapping.access if mapping.access != "manifest" else PUBLIC)
        group = self._group(session, group_of(str(access)))
        row = session.scalar(select(Release).where(Release.experiment == experiment,
                                                   Release.name == name))
        if row is None:
            row = Release(experiment=experiment, name=name, access_group_id=group.id,
                          storage_id=self.storage_id, title=f"{experiment} release {name}",
                          provenance=json.dumps({"storage": self.storage.name}))
            session.add(row)
            session.flush()
        if not manifest:
            # files of a release outside its store folder (e.g. KCDC exports): the release
            # record is the manifest's business, only make sure it exists
            return row
        # the storage holding the manifest is the release's home
        row.access_group_id, row.storage_id = group.id, self.storage_id
        row.title = str(manifest.get("title") or f"{experiment} release {name}")
        row.description = str(manifest.get("description") or "")
        row.licence = str(manifest.get("licence") or manifest.get("license") or "CC-BY-4.0")
        row.doi = manifest.get("doi") or None
        row.version = int(manifest.get("version", 1)) if str(manifest.get("version", 1)).isdigit() else 1
        row.provenance = json.dumps({
            "build_id": manifest.get("build_id"), "created": manifest.get("created"),
            "kind": manifest.get("kind"),
            "sources": [s.get("name") for s in manifest.get("sources") or []],
            "software": manifest.get("software") or {},
            "storage": self.storage.name, "release_dir": cand.relpath.split("/events/")[0],
        }, sort_keys=True)
        created = str(manifest.get("created") or "")
        try:
            row.created_utc = datetime.fromisoformat(created.replace("Z", "+00:00")).astimezone(
                timezone.utc).replace(tzinfo=None)
        except ValueError:
            pass
        row.updated_utc = utcnow()
        session.flush()
        return row


def _manifest_for(path: Path, release: str) -> dict:
    """The manifest.json of the release folder a file lies in (empty when there is none)."""
    for parent in path.parents:
        if parent.name == release and (parent / "manifest.json").exists():
            try:
                return json.loads((parent / "manifest.json").read_text())
            except ValueError:
                return {}
    return {}


def _parse_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _to_utc(day: date | None, ns_of_day: object, unix_s: object) -> datetime | None:
    if ns_of_day is not None and day is not None:
        return datetime(day.year, day.month, day.day) + timedelta(microseconds=int(ns_of_day) // 1000)
    if unix_s is not None:
        return datetime.fromtimestamp(float(unix_s), timezone.utc).replace(tzinfo=None)
    return None


def _int(value: object) -> int | None:
    return None if value is None or isinstance(value, list) else int(value)  # type: ignore[arg-type]


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return _scalar(value)
