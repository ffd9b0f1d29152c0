"""OAI-PMH 2.0: the six verbs, Dublin Core and DataCite records, protocol errors; every
response valid against the OAI-PMH, oai_dc and DataCite kernel-4 schemas."""
from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from tests.service.oai_schemas import oai_schema, validate

NS = {"o": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/",
      "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
      "dcite": "http://datacite.org/schema/kernel-4"}


def oai(client, **params) -> ET.Element:
    reply = client.get("/oai", params=params)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/xml")
    validate(reply.content, oai_schema())
    return ET.fromstring(reply.content)


def error_code(root: ET.Element) -> str | None:
    node = root.find("o:error", NS)
    return None if node is None else node.get("code")


def identifiers(member) -> dict[str, str]:
    return {r["name"]: r["oai_identifier"] for r in member.get("/api/releases").json()}


def test_identify_and_formats(member):
    root = oai(member, verb="Identify")
    assert root.findtext("o:Identify/o:protocolVersion", namespaces=NS) == "2.0"
    assert root.findtext("o:Identify/o:baseURL", namespaces=NS).endswith("/oai")
    assert root.findtext("o:Identify/o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    root = oai(member, verb="ListMetadataFormats")
    prefixes = [e.text for e in root.iterfind(".//o:metadataPrefix", NS)]
    assert prefixes == ["oai_dc", "datacite"]


def test_dublin_core_records_carry_identifiers_licence_and_provenance(member):
    root = oai(member, verb="ListRecords", metadataPrefix="oai_dc")
    records = root.findall("o:ListRecords/o:record", NS)
    assert len(records) == 2
    by_id = {r.findtext("o:header/o:identifier", namespaces=NS): r for r in records}
    oceanus = by_id[identifiers(member)["OCEANUS"]]
    dc = oceanus.find("o:metadata/oai_dc:dc", NS)
    ids = [e.text for e in dc.iterfind("dc:identifier", NS)]
    assert any(i.startswith("urn:uuid:") for i in ids)
    assert "https://doi.org/10.5445/IR/1000000000" in ids
    assert "CC-BY-4.0" in dc.findtext("dc:rights", namespaces=NS)
    assert "build_id" in dc.findtext("dc:source", namespaces=NS)
    for record in records:  # every record: licence and provenance
        meta = record.find("o:metadata/oai_dc:dc", NS)
        assert meta.findtext("dc:rights", namespaces=NS) and meta.findtext("dc:source", namespaces=NS)


def test_datacite_get_record(member):
    identifier = identifiers(member)["OCEANUS"]
    root = oai(member, verb="GetRecord", identifier=identifier, metadataPrefix="datacite")
    resource = root.find("o:GetRecord/o:record/o:metadata/dcite:resource", NS)
    ident = resource.find("dcite:identifier", NS)
    assert (ident.get("identifierType"), ident.text) == ("DOI", "10.5445/IR/1000000000")
    assert resource.find("dcite:rightsList/dcite:rights", NS).get("rightsIdentifier") == "CC-BY-4.0"
    assert resource.find("dcite:resourceType", NS).get("resourceTypeGeneral") == "Dataset"
    methods = [d for d in resource.iterfind("dcite:descriptions/dcite:description", NS)
               if d.get("descriptionType") == "Methods"]
    assert methods and "build_id" in methods[0].text
    # a release without DOI is identified by its UUID
    tsim = identifiers(member)["TSIM1"]
    root = oai(member, verb="GetRecord", identifier=tsim, metadataPrefix="datacite")
    ident = root.find(".//dcite:identifier", NS)
    assert ident.get("identifierType") == "URN" and ident.text == "urn:uuid:" + tsim.rsplit("/", 1)[1]


def test_list_identifiers_respects_groups_and_dates(member, outsider):
    assert len(oai(member, verb="ListIdentifiers", metadataPrefix="oai_dc")
               .findall(".//o:header", NS)) == 2
    headers = oai(outsider, verb="ListIdentifiers", metadataPrefix="oai_dc").findall(".//o:header", NS)
    assert [h.findtext("o:identifier", namespaces=NS) for h in headers] == [
        identifiers(member)["OCEANUS"]]
    assert error_code(oai(member, verb="ListIdentifiers", metadataPrefix="oai_dc",
                          until="2000-01-01")) == "noRecordsMatch"
    assert error_code(oai(member, verb="ListIdentifiers", metadataPrefix="oai_dc",
                          **{"from": "2000-01-01"})) is None
    # the collaboration release does not exist for an outsider
    assert error_code(oai(outsider, verb="GetRecord", identifier=identifiers(member)["TSIM1"],
                          metadataPrefix="oai_dc")) == "idDoesNotExist"


@pytest.mark.parametrize("params, code", [
    ({}, "badVerb"), ({"verb": "Harvest"}, "badVerb"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "identifier": "oai:dlclab:release/nope", "metadataPrefix": "oai_dc"},
     "idDoesNotExist"),
    ({"verb": "Identify", "extra": "1"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "last week"}, "badArgument"),
    ({"verb": "ListRecords", "resumptionToken": "x"}, "badResumptionToken"),
    ({"verb": "ListSets", "resumptionToken": "x"}, "badResumptionToken"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "a b"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "experiment:nope"},
     "noRecordsMatch"),
    ({"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"}, "badArgument"),
])
def test_protocol_errors(member, params, code):
    assert error_code(oai(member, **params)) == code
