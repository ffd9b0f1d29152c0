"""OAI-PMH 2.0 over the catalogue's releases: Dublin Core (``oai_dc``) and DataCite
(``oai_datacite``, kernel 4) records with persistent identifiers (UUID, DOI where the
release has one), licence and provenance in every record.

Identifiers are ``oai:dlclab:release/<uuid>``; a user harvests the releases their groups
may see (KCDC's open data: everyone with a lab account).
"""
from __future__ import annotations

import json
from datetime import datetime
from xml.etree import ElementTree as ET

from sqlalchemy import select
from sqlalchemy.orm import Session

from dlclab.metadata.models import Release, utcnow
from dlclab.metadata.query import Visibility

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DATACITE_NS = "http://datacite.org/schema/kernel-4"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FORMATS = {
    "oai_dc": (OAI_DC_NS, "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"),
    "oai_datacite": (DATACITE_NS, "http://schema.datacite.org/meta/kernel-4/metadata.xsd"),
}
PREFIX = "oai:dlclab:release/"
VERBS = {"Identify": set(), "ListMetadataFormats": {"identifier"},
         "ListRecords": {"metadataPrefix", "from", "until", "set", "resumptionToken"},
         "ListIdentifiers": {"metadataPrefix", "from", "until", "set", "resumptionToken"},
         "GetRecord": {"identifier", "metadataPrefix"}, "ListSets": {"resumptionToken"}}
for ns, prefix in ((OAI_NS, ""), (DC_NS, "dc"), (OAI_DC_NS, "oai_dc"), (XSI, "xsi")):
    ET.register_namespace(prefix, ns)


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


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    node = ET.SubElement(parent, tag, attrib)
    if text is not None:
        node.text = text
    return node


def dublin_core(release: Release, base_url: str) -> ET.Element:
    root = ET.Element(f"{{{OAI_DC_NS}}}dc", {
        f"{{{XSI}}}schemaLocation": f"{OAI_DC_NS} {FORMATS['oai_dc'][1]}"})
    d = f"{{{DC_NS}}}"
    _sub(root, d + "title", release.title or f"{release.experiment} {release.name}")
    _sub(root, d + "creator", f"{release.experiment.upper()} collaboration")
    _sub(root, d + "publisher", release.publisher)
    _sub(root, d + "date", release.created_utc.date().isoformat())
    _sub(root, d + "type", "Dataset")
    _sub(root, d + "identifier", f"urn:uuid:{release.uuid}")
    if release.doi:
        _sub(root, d + "identifier", f"https://doi.org/{release.doi}")
    _sub(root, d + "identifier", f"{base_url}api/releases/{release.uuid}")
    _sub(root, d + "description", release.description or f"Release {release.name} "
         f"(version {release.version}) of {release.experiment} data")
    _sub(root, d + "rights", f"licence: {release.licence}; access: {release.access_group.name}")
    _sub(root, d + "source", f"provenance: {release.provenance or '{}'}")
    _sub(root, d + "subject", "astroparticle physics; cosmic rays; extensive air showers")
    return root


def datacite(release: Release, base_url: str) -> ET.Element:
    ns = f"{{{DATACITE_NS}}}"
    root = ET.Element(ns + "resource", {
        f"{{{XSI}}}schemaLocation": f"{DATACITE_NS} {FORMATS['oai_datacite'][1]}"})
    if release.doi:
        _sub(root, ns + "identifier", release.doi, identifierType="DOI")
    else:
        _sub(root, ns + "identifier", f"urn:uuid:{release.uuid}", identifierType="URN")
    alt = _sub(root, ns + "alternateIdentifiers")
    _sub(alt, ns + "alternateIdentifier", release.uuid, alternateIdentifierType="UUID")
    creators = _sub(root, ns + "creators")
    creator = _sub(creators, ns + "creator")
    _sub(creator, ns + "creatorName", f"{release.experiment.upper()} collaboration",
         nameType="Organizational")
    titles = _sub(root, ns + "titles")
    _sub(titles, ns + "title", release.title or f"{release.experiment} {release.name}")
    _sub(root, ns + "publisher", release.publisher)
    _sub(root, ns + "publicationYear", str(release.created_utc.year))
    _sub(root, ns + "resourceType", "Event tables", resourceTypeGeneral="Dataset")
    _sub(root, ns + "version", str(release.version))
    rights = _sub(root, ns + "rightsList")
    _sub(rights, ns + "rights", release.licence, rightsIdentifier=release.licence,
         rightsIdentifierScheme="SPDX")
    descriptions = _sub(root, ns + "descriptions")
    _sub(descriptions, ns + "description", release.description or f"Release {release.name}",
         descriptionType="Abstract")
    _sub(descriptions, ns + "description", release.provenance or "{}", descriptionType="Methods")
    dates = _sub(root, ns + "dates")
    _sub(dates, ns + "date", release.created_utc.date().isoformat(), dateType="Created")
    _sub(dates, ns + "date", release.updated_utc.date().isoformat(), dateType="Updated")
    return root


class OaiRepository:
    def __init__(self, base_url: str, repository_name: str = "dlclab Data Aggregation Service",
                 admin_email: str = "dlclab-admin@localhost") -> None:
        self.base_url = base_url
        self.repository_name = repository_name
        self.admin_email = admin_email

    def respond(self, session: Session, seen: Visibility, params: dict[str, str]) -> bytes:
        root = ET.Element(f"{{{OAI_NS}}}OAI-PMH", {
            f"{{{XSI}}}schemaLocation": f"{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"})
        _sub(root, f"{{{OAI_NS}}}responseDate", _stamp(utcnow()))
        request = _sub(root, f"{{{OAI_NS}}}request", f"{self.base_url}oai")
        verb = params.get("verb", "")
        try:
            if verb not in VERBS:
                raise OaiError("badVerb", f"verb {verb!r}: expected one of {sorted(VERBS)}")
            extra = set(params) - {"verb"} - VERBS[verb]
            if extra:
                raise OaiError("badArgument", f"{verb} does not take {sorted(extra)}")
            for key, value in params.items():
                request.set(key, value)
            body = getattr(self, f"_{verb}")(session, seen, params)
            root.append(body)
        except OaiError as err:
            _sub(root, f"{{{OAI_NS}}}error", err.message, code=err.code)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)

    # -- verbs ---------------------------------------------------------------------------
    def _Identify(self, session: Session, seen: Visibility, params: dict) -> ET.Element:
        node = ET.Element(f"{{{OAI_NS}}}Identify")
        o = f"{{{OAI_NS}}}"
        _sub(node, o + "repositoryName", self.repository_name)
        _sub(node, o + "baseURL", f"{self.base_url}oai")
        _sub(node, o + "protocolVersion", "2.0")
        _sub(node, o + "adminEmail", self.admin_email)
        earliest = session.scalar(select(Release.updated_utc).order_by(Release.updated_utc))
        _sub(node, o + "earliestDatestamp", _stamp(earliest or datetime(2000, 1, 1)))
        _sub(node, o + "deletedRecord", "no")
        _sub(node, o + "granularity", "YYYY-MM-DDThh:mm:ssZ")
        return node

    def _ListMetadataFormats(self, session: Session, seen: Visibility, params: dict) -> ET.Element:
        if "identifier" in params:
            self._release(session, seen, params["identifier"])
        node = ET.Element(f"{{{OAI_NS}}}ListMetadataFormats")
        for prefix, (namespace, schema) in FORMATS.items():
            fmt = _sub(node, f"{{{OAI_NS}}}metadataFormat")
            _sub(fmt, f"{{{OAI_NS}}}metadataPrefix", prefix)
            _sub(fmt, f"{{{OAI_NS}}}schema", schema)
            _sub(fmt, f"{{{OAI_NS}}}metadataNamespace", namespace)
        return node

    def _ListSets(self, session: Session, seen: Visibility, params: dict) -> ET.Element:
        if "resumptionToken" in params:
            raise OaiError("badResumptionToken", "this repository issues no resumption tokens")
        raise OaiError("noSetHierarchy", "this repository has no sets")

    def _GetRecord(self, session: Session, seen: Visibility, params: dict) -> ET.Element:
        if "identifier" not in params or "metadataPrefix" not in params:
            raise OaiError("badArgument", "GetRecord needs identifier and metadataPrefix")
        prefix = self._prefix(params)
        release = self._release(session, seen, params["identifier"])
        node = ET.Element(f"{{{OAI_NS}}}GetRecord")
        node.append(self._record(release, prefix))
        return node

    def _ListRecords(self, session: Session, seen: Visibility, params: dict) -> ET.Element:
        return self._list(session, seen, params, "ListRecords", full=True)

    def _ListIdentifiers(self, session: Session, seen: Visibility, params: dict) -> ET.Element:
        return self._list(session, seen, params, "ListIdentifiers", full=False)

    # -- helpers -------------------------------------------------------------------------
    def _prefix(self, params: dict) -> str:
        prefix = params.get("metadataPrefix")
        if prefix not in FORMATS:
            raise OaiError("cannotDisseminateFormat",
                           f"metadataPrefix {prefix!r}: expected one of {sorted(FORMATS)}")
        return prefix

    def _list(self, session: Session, seen: Visibility, params: dict, verb: str, full: bool):
        if "resumptionToken" in params:
            raise OaiError("badResumptionToken", "this repository issues no resumption tokens")
        if "metadataPrefix" not in params:
            raise OaiError("badArgument", f"{verb} needs metadataPrefix")
        prefix = self._prefix(params)
        if "set" in params:
            raise OaiError("noSetHierarchy", "this repository has no sets")
        stmt = select(Release).where(Release.id.in_(seen.release_ids)).order_by(Release.id)
        if "from" in params:
            stmt = stmt.where(Release.updated_utc >= _parse_stamp(params["from"], "from"))
        if "until" in params:
            until = _parse_stamp(params["until"], "until")
            if len(params["until"]) == 10:
                until = until.replace(hour=23, minute=59, second=59)
            stmt = stmt.where(Release.updated_utc <= until)
        releases = list(session.scalars(stmt))
        if not releases:
            raise OaiError("noRecordsMatch", "no release matches")
        node = ET.Element(f"{{{OAI_NS}}}{verb}")
        for release in releases:
            node.append(self._record(release, prefix) if full else self._header(release))
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
        header = ET.Element(f"{{{OAI_NS}}}header")
        _sub(header, f"{{{OAI_NS}}}identifier", PREFIX + release.uuid)
        _sub(header, f"{{{OAI_NS}}}datestamp", _stamp(release.updated_utc))
        return header

    def _record(self, release: Release, prefix: str) -> ET.Element:
        record = ET.Element(f"{{{OAI_NS}}}record")
        record.append(self._header(release))
        metadata = _sub(record, f"{{{OAI_NS}}}metadata")
        metadata.append(dublin_core(release, self.base_url) if prefix == "oai_dc"
                        else datacite(release, self.base_url))
        return record


def provenance_of(release: Release) -> dict:
    try:
        return json.loads(release.provenance or "{}")
    except ValueError:
        return {"text": release.provenance}
