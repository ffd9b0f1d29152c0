"""The metadata of one release: Dublin Core (``oai_dc``) and DataCite kernel 4
(``datacite``) elements, each valid against its format's XML schema (the tests validate
them against the vendored XSDs in ``tests/service/xsd``)."""
from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from dlclab.metadata.models import Release

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DATACITE_NS = "http://datacite.org/schema/kernel-4"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
#: metadataPrefix -> (namespace, schema); ``datacite`` is the kernel-4 resource itself,
#: the prefix DataCite's own OAI-PMH provider uses for it
FORMATS = {
    "oai_dc": (OAI_DC_NS, "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"),
    "datacite": (DATACITE_NS, "http://schema.datacite.org/meta/kernel-4/metadata.xsd"),
}
for _ns, _prefix in ((OAI_NS, ""), (DC_NS, "dc"), (OAI_DC_NS, "oai_dc"), (XSI, "xsi"),
                     (DATACITE_NS, "datacite")):
    ET.register_namespace(_prefix, _ns)


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    node = ET.SubElement(parent, tag, attrib)
    if text is not None:
        node.text = text
    return node


def dublin_core(release: Release, base_url: str) -> ET.Element:
    root = ET.Element(f"{{{OAI_DC_NS}}}dc", {
        f"{{{XSI}}}schemaLocation": f"{OAI_DC_NS} {FORMATS['oai_dc'][1]}"})
    d = f"{{{DC_NS}}}"
    sub(root, d + "title", release.title or f"{release.experiment} {release.name}")
    sub(root, d + "creator", f"{release.experiment.upper()} collaboration")
    sub(root, d + "publisher", release.publisher)
    sub(root, d + "date", release.created_utc.date().isoformat())
    sub(root, d + "type", "Dataset")
    sub(root, d + "identifier", f"urn:uuid:{release.uuid}")
    if release.doi:
        sub(root, d + "identifier", f"https://doi.org/{release.doi}")
    sub(root, d + "identifier", f"{base_url}api/releases/{release.uuid}")
    sub(root, d + "description", release.description or f"Release {release.name} "
        f"(version {release.version}) of {release.experiment} data")
    sub(root, d + "rights", f"licence: {release.licence}; access: {release.access_group.name}")
    sub(root, d + "source", f"provenance: {release.provenance or '{}'}")
    sub(root, d + "subject", "astroparticle physics; cosmic rays; extensive air showers")
    return root


def datacite(release: Release, base_url: str) -> ET.Element:
    ns = f"{{{DATACITE_NS}}}"
    root = ET.Element(ns + "resource", {
        f"{{{XSI}}}schemaLocation": f"{DATACITE_NS} {FORMATS['datacite'][1]}"})
    # kernel 4 (since 4.2) takes any identifier type: a release without a DOI is
    # identified by its UUID URN
    if release.doi:
        sub(root, ns + "identifier", release.doi, identifierType="DOI")
    else:
        sub(root, ns + "identifier", f"urn:uuid:{release.uuid}", identifierType="URN")
    alt = sub(root, ns + "alternateIdentifiers")
    sub(alt, ns + "alternateIdentifier", release.uuid, alternateIdentifierType="UUID")
    creators = sub(root, ns + "creators")
    creator = sub(creators, ns + "creator")
    sub(creator, ns + "creatorName", f"{release.experiment.upper()} collaboration",
        nameType="Organizational")
    titles = sub(root, ns + "titles")
    sub(titles, ns + "title", release.title or f"{release.experiment} {release.name}")
    sub(root, ns + "publisher", release.publisher)
    sub(root, ns + "publicationYear", str(release.created_utc.year))
    sub(root, ns + "resourceType", "Event tables", resourceTypeGeneral="Dataset")
    sub(root, ns + "version", str(release.version))
    rights = sub(root, ns + "rightsList")
    sub(rights, ns + "rights", release.licence, rightsIdentifier=release.licence,
        rightsIdentifierScheme="SPDX")
    descriptions = sub(root, ns + "descriptions")
    sub(descriptions, ns + "description", release.description or f"Release {release.name}",
        descriptionType="Abstract")
    sub(descriptions, ns + "description", release.provenance or "{}", descriptionType="Methods")
    dates = sub(root, ns + "dates")
    sub(dates, ns + "date", release.created_utc.date().isoformat(), dateType="Created")
    sub(dates, ns + "date", release.updated_utc.date().isoformat(), dateType="Updated")
    return root


def metadata(release: Release, prefix: str, base_url: str) -> ET.Element:
    """The record's metadata in format ``prefix`` (a key of :data:`FORMATS`)."""
    return dublin_core(release, base_url) if prefix == "oai_dc" else datacite(release, base_url)


def provenance_of(release: Release) -> dict:
    try:
        return json.loads(release.provenance or "{}")
    except ValueError:
        return {"text": release.provenance}
