"""The six OAI-PMH 2.0 verbs over the releases a requester may see.

Identifiers are ``oai:dlclab:release/<uuid>``. A release the requester may not see does
not exist for them: it is in no list, no set count, no datestamp and no error message
(``idDoesNotExist`` for it reads as for an unknown identifier).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from xml.etree import ElementTree as ET

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dlclab.metadata.models import Release, utcnow
from dlclab.metadata.query import Visibility
from dlclab.service.oai import sets, tokens
from dlclab.service.oai.records import FORMATS, OAI_NS, XSI, metadata, sub

PREFIX = "oai:dlclab:release/"
VERBS = {"Identify": set(), "ListMetadataFormats": {"identifier"},
         "ListRecords": {"metadataPrefix", "from", "until", "set", "resumptionToken"},
         "ListIdentifiers": {"metadataPrefix", "from", "until", "set", "resumptionToken"},
         "GetRecord": {"identifier", "metadataPrefix"}, "ListSets": {"resumptionToken"}}
O = f"{{{OAI_NS}}}"


class OaiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _stamp(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def _parse_stamp(text: str, name: str) -> datetime:
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text)
        if text.endswith("Z") and len(text) == 20:
            return datetime.fromisoformat(text[:-1])
    except ValueError:
        pass
    raise OaiError("badArgument", f"{name}={text!r}: expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")


class OaiRepository:
    def __init__(self, base_url: str, page_size: int = 100,
                 token_ttl: timedelta = timedelta(days=1),
                 repository_name: str = "dlclab Data Aggregation Service",
                 admin_email: str = "dlclab-admin@localhost.localdomain") -> None:
        self.base_url = base_url
        self.page_size = page_size
        self.token_ttl = token_ttl
        self.repository_name = repository_name
        self.admin_email = admin_email

    def respond(self, session: Session, seen: Visibility, params: dict[str, str],
                repeated: list[str] | tuple[str, ...] = ()) -> bytes:
        """The response document to a request with ``params`` (``repeated``: the names
        the request gave more than once, which the protocol refuses) from a requester who
        sees ``seen``."""
        root = ET.Element(f"{O}OAI-PMH", {
            f"{{{XSI}}}schemaLocation": f"{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"})
        sub(root, f"{O}responseDate", _stamp(utcnow()))
        request = sub(root, f"{O}request", f"{self.base_url}oai")
        verb = params.get("verb", "")
        try:
            if verb not in VERBS:
                raise OaiError("badVerb", f"verb {verb!r}: expected one of {sorted(VERBS)}")
            if repeated:
                raise OaiError("badArgument", f"repeated arguments {list(repeated)}")
            extra = set(params) - {"verb"} - VERBS[verb]
            if extra:
                raise OaiError("badArgument", f"{verb} does not take {sorted(extra)}")
            if "resumptionToken" in params and len(params) > 2:
                raise OaiError("badArgument", "resumptionToken is an exclusive argument")
            for key, value in params.items():
                request.set(key, value)
            root.append(getattr(self, f"_{verb}")(session, seen, params))
        except OaiError as err:
            # the protocol: no request attributes on badVerb/badArgument
            if err.code in ("badVerb", "badArgument"):
                request.attrib.clear()
            sub(root, f"{O}error", err.message, code=err.code)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)

    # -- verbs ---------------------------------------------------------------------------
    def _Identify(self, session: Session, seen: Visibility, params: dict) -> ET.Element:
        node = ET.Element(f"{O}Identify")
        sub(node, O + "repositoryName", self.repository_name)
        sub(node, O + "baseURL", f"{self.base_url}oai")
        sub(node, O + "protocolVersion", "2.0")
        sub(node, O + "adminEmail", self.admin_email)
        earliest = session.scalar(select(func.min(Release.updated_utc))
                                  .where(Release.id.in_(seen.release_ids)))
        sub(node, O + "earliestDatestamp", _stamp(earliest or datetime(2000, 1, 1)))
        sub(node, O + "deletedRecord", "no")
        sub(node, O + "granularity", "YYYY-MM-DDThh:mm:ssZ")
        return node

    def _ListMetadataFormats(self, session: Session, seen: Visibility, params: dict) -> ET.Element:
        if "identifier" in params:
            self._release(session, seen, params["identifier"])
        node = ET.Element(f"{O}ListMetadataFormats")
        for prefix, (namespace, schema) in FORMATS.items():
            fmt = sub(node, f"{O}metadataFormat")
            sub(fmt, f"{O}metadataPrefix", prefix)
            sub(fmt, f"{O}schema", schema)
            sub(fmt, f"{O}metadataNamespace", namespace)
        return node

    def _ListSets(self, session: Session, seen: Visibility, params: dict) -> ET.Element:
        if "resumptionToken" in params:  # the sets are few: always one page
            raise OaiError("badResumptionToken", "ListSets issues no resumption tokens")
        visible = list(session.scalars(select(Release).where(Release.id.in_(seen.release_ids))))
        node = ET.Element(f"{O}ListSets")
        for found in sets.sets_of(visible):
            entry = sub(node, f"{O}set")
            sub(entry, f"{O}setSpec", found.spec)
            sub(entry, f"{O}setName", found.name)
            # a plain-text description in Dublin Core, as the protocol suggests
            described = sub(entry, f"{O}setDescription")
            dc = ET.SubElement(described, "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc")
            sub(dc, "{http://purl.org/dc/elements/1.1/}description", found.description)
        return node

    def _GetRecord(self, session: Session, seen: Visibility, params: dict) -> ET.Element:
        if "identifier" not in params or "metadataPrefix" not in params:
            raise OaiError("badArgument", "GetRecord needs identifier and metadataPrefix")
        prefix = self._prefix(params.get("metadataPrefix"))
        release = self._release(session, seen, params["identifier"])
        node = ET.Element(f"{O}GetRecord")
        node.append(self._record(release, prefix))
        return node

    def _ListRecords(self, session: Session, seen: Visibility, params: dict) -> ET.Element:
        return self._list(session, seen, params, "ListRecords", full=True)

    def _ListIdentifiers(self, session: Session, seen: Visibility, params: dict) -> ET.Element:
        return self._list(session, seen, params, "ListIdentifiers", full=False)

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def _prefix(prefix: str | None) -> str:
        if prefix not in FORMATS:
            raise OaiError("cannotDisseminateFormat",
                           f"metadataPrefix {prefix!r}: expected one of {sorted(FORMATS)}")
        return prefix

    def _state(self, params: dict, verb: str, seen: Visibility) -> tokens.ListState:
        """Where the list stands: from the token, or a new list from the arguments."""
        if "resumptionToken" in params:
            try:
                return tokens.decode(params["resumptionToken"], utcnow(), self.token_ttl,
                                     seen.groups)
            except tokens.BadToken as exc:
                raise OaiError("badResumptionToken", str(exc)) from exc
        if "metadataPrefix" not in params:
            raise OaiError("badArgument", f"{verb} needs metadataPrefix")
        spec = params.get("set")
        if spec is not None and not sets.SET_SPEC.fullmatch(spec):
            raise OaiError("badArgument", f"set={spec[:80]!r} is not a setSpec")
        for name in ("from", "until"):
            if name in params:
                _parse_stamp(params[name], name)
        if "from" in params and "until" in params and len(params["from"]) != len(params["until"]):
            raise OaiError("badArgument", "from and until must have the same granularity")
        return tokens.ListState(prefix=self._prefix(params["metadataPrefix"]), set_spec=spec,
                                from_=params.get("from"), until=params.get("until"),
                                after_id=0, cursor=0, started_utc=utcnow().isoformat(),
                                groups=tokens.groups_digest(seen.groups))

    def _list(self, session: Session, seen: Visibility, params: dict, verb: str, full: bool):
        state = self._state(params, verb, seen)
        stmt = select(Release).where(Release.id.in_(seen.release_ids))
        if state.set_spec is not None:
            stmt = sets.restrict(stmt, session, state.set_spec)
        if state.from_ is not None:
            stmt = stmt.where(Release.updated_utc >= _parse_stamp(state.from_, "from"))
        if state.until is not None:
            until = _parse_stamp(state.until, "until")
            if len(state.until) == 10:
                until = until.replace(hour=23, minute=59, second=59)
            stmt = stmt.where(Release.updated_utc <= until)
        total = session.scalar(select(func.count()).select_from(stmt.subquery()))
        page = list(session.scalars(stmt.where(Release.id > state.after_id)
                                    .order_by(Release.id).limit(self.page_size + 1)))
        if not page:  # also a list whose remaining releases were removed since the last page
            raise OaiError("noRecordsMatch", "no release matches")
        more, page = len(page) > self.page_size, page[:self.page_size]
        node = ET.Element(f"{O}{verb}")
        for release in page:
            node.append(self._record(release, state.prefix) if full else self._header(release))
        if state.cursor or more:  # a list in pages: each page says where it stands
            attrs = {"completeListSize": str(total), "cursor": str(state.cursor)}
            if more:
                after = replace(state, after_id=page[-1].id, cursor=state.cursor + len(page))
                attrs["expirationDate"] = _stamp(state.expires(self.token_ttl))
                sub(node, f"{O}resumptionToken", tokens.encode(after), **attrs)
            else:  # the last page: an empty token ends the list
                sub(node, f"{O}resumptionToken", None, **attrs)
        return node

    def _release(self, session: Session, seen: Visibility, identifier: str) -> Release:
        if not identifier.startswith(PREFIX):
            raise OaiError("idDoesNotExist", f"identifier {identifier!r}: expected {PREFIX}<uuid>")
        release = session.scalar(select(Release).where(Release.uuid == identifier[len(PREFIX):]))
        # a release the user may not see does not exist for them
        if release is None or release.id not in seen.release_ids:
            raise OaiError("idDoesNotExist", f"no release {identifier!r}")
        return release

    def _header(self, release: Release) -> ET.Element:
        header = ET.Element(f"{O}header")
        sub(header, f"{O}identifier", PREFIX + release.uuid)
        sub(header, f"{O}datestamp", _stamp(release.updated_utc))
        for spec in sets.specs_of(release):
            sub(header, f"{O}setSpec", spec)
        return header

    def _record(self, release: Release, prefix: str) -> ET.Element:
        record = ET.Element(f"{O}record")
        record.append(self._header(release))
        sub(record, f"{O}metadata").append(metadata(release, prefix, self.base_url))
        return record
