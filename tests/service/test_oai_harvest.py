"""A registry's harvest of the real service behind the real hub's proxy, with the real
harvester ``oaipmh-scythe``: anonymous (no lab token), as a non-member and as a member,
through resumption tokens (the service runs with ``--oai-page-size 2``), every response
and every record validated against the OAI-PMH 2.0, oai_dc and DataCite kernel-4 schemas
(vendored, see xsd/SOURCES.md)."""
from __future__ import annotations

import httpx
import pytest
from lxml import etree
from oaipmh_scythe import HTTPConfig, Scythe
from oaipmh_scythe.exceptions import BadResumptionToken, IdDoesNotExist, NoRecordsMatch

from dlclab.service.oai.tokens import ListState, encode, groups_digest
from tests.service.conftest import OAI_RELEASES, wait_for_service
from tests.service.oai_schemas import oai_schema, schema, validate

pytestmark = pytest.mark.hub

OAI = "{http://www.openarchives.org/OAI/2.0/}"
PUBLIC = sorted(name for _, name, access in OAI_RELEASES if access == "public")
TAIGA_INTERNAL = sorted(name for e, name, access in OAI_RELEASES if access == "collaboration:taiga")
INTERNAL = sorted(name for _, name, access in OAI_RELEASES if access != "public")
METADATA = {"oai_dc": "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc",
            "datacite": "{http://datacite.org/schema/kernel-4}resource"}


class RecordingScythe(Scythe):
    """The harvester as it is, keeping each HTTP response it received (to validate)."""

    def __init__(self, endpoint: str, token: str | None = None) -> None:
        super().__init__(endpoint, http_config=HTTPConfig(
            timeout=30, auth=_token_auth(token) if token else None))
        self.responses: list[bytes] = []

    def _request_with_retry(self, query):
        reply = super()._request_with_retry(query)
        assert reply.status_code == 200, (reply.status_code, reply.text[:300])
        self.responses.append(reply.content)
        return reply


def _token_auth(token: str):
    def add(request):
        request.headers["Authorization"] = f"token {token}"
        return request
    return add


@pytest.fixture(scope="module")
def oai_url(hub) -> str:
    return wait_for_service(hub, "das-oai") + "/oai"


def release_name(record) -> str:
    """The release of a record (build_release titles them 'Simulated <exp> showers (<name>)')."""
    meta = record.xml.find(f"{OAI}metadata")[0]
    title = next(e.text for e in meta.iter() if etree.QName(e).localname == "title")
    return title.rsplit("(", 1)[1].rstrip(")")


def harvest(url: str, token: str | None = None, prefix: str = "oai_dc",
            set_: str | None = None) -> tuple[list, list[bytes]]:
    """All records of a ListRecords harvest, and every response it took; each response is
    valid OAI-PMH and each record's metadata valid in its format."""
    with RecordingScythe(url, token) as scythe:
        records = list(scythe.list_records(metadata_prefix=prefix, set_=set_))
        responses = scythe.responses
    for body in responses:
        validate(body, oai_schema())
    for record in records:
        meta = record.xml.find(f"{OAI}metadata")[0]
        assert meta.tag == METADATA[prefix]
        validate(meta, schema(prefix))
    return records, responses


def tokens_of(responses: list[bytes]) -> list[dict]:
    found = []
    for body in responses:
        node = etree.fromstring(body).find(f".//{OAI}resumptionToken")
        found.append(None if node is None else {**node.attrib, "text": node.text})
    return found


@pytest.mark.parametrize("prefix", ["oai_dc", "datacite"])
def test_anonymous_harvest_pages_through_public_records(oai_url, prefix):
    records, responses = harvest(oai_url, prefix=prefix)
    assert sorted(release_name(r) for r in records) == PUBLIC
    assert len({r.header.identifier for r in records}) == len(PUBLIC)  # none twice
    # 5 records in pages of 2: two tokens, then the empty one that ends the list
    pages = tokens_of(responses)
    assert len(responses) == 3
    assert [(p["cursor"], p["completeListSize"]) for p in pages] == [("0", "5"), ("2", "5"),
                                                                       ("4", "5")]
    assert pages[0]["text"] and pages[1]["text"] and pages[2]["text"] is None
    assert "expirationDate" in pages[0]
    for body in responses:
        for name in INTERNAL:
            assert name.encode() not in body


def test_non_member_and_member_harvests(hub, oai_url):
    anonymous, _ = harvest(oai_url)
    bob, bob_responses = harvest(oai_url, hub.token("bob"))
    alice, alice_responses = harvest(oai_url, hub.token("alice"))
    assert sorted(release_name(r) for r in bob) == PUBLIC
    assert not any(name.encode() in body for body in bob_responses for name in INTERNAL)
    # alice is in taiga: its internal releases too, not KASCADE's
    assert sorted(release_name(r) for r in alice) == sorted(PUBLIC + TAIGA_INTERNAL)
    assert len(alice_responses) == 4
    assert not any(b"KSECRET" in body for body in alice_responses)
    # the internal records exist for nobody else, not even by identifier
    internal_ids = {r.header.identifier for r in alice} - {r.header.identifier for r in anonymous}
    assert len(internal_ids) == len(TAIGA_INTERNAL)
    for token in (None, hub.token("bob")):
        with RecordingScythe(oai_url, token) as scythe:
            for identifier in internal_ids:
                with pytest.raises(IdDoesNotExist):
                    scythe.get_record(identifier)
            for body in scythe.responses:
                validate(body, oai_schema())
                assert b"SECRET" not in body


def test_sets_and_set_filtering(hub, oai_url):
    def listed(token: str | None) -> list[str]:
        with RecordingScythe(oai_url, token) as scythe:
            found = [s.setSpec for s in scythe.list_sets()]
            validate(scythe.responses[0], oai_schema())
        return found

    public_sets = ["experiment", "experiment:kascade", "experiment:taiga", "access",
                   "access:public"]
    assert listed(None) == public_sets
    assert listed(hub.token("bob")) == public_sets
    assert listed(hub.token("alice")) == public_sets + ["access:collaboration"]

    taiga, _ = harvest(oai_url, set_="experiment:taiga")
    assert sorted(release_name(r) for r in taiga) == ["T2020.1-EDU", "TPUB2"]
    assert all("experiment:taiga" in r.header.setSpecs for r in taiga)
    kascade, _ = harvest(oai_url, prefix="datacite", set_="experiment:kascade")
    assert sorted(release_name(r) for r in kascade) == ["KPUB3", "NABOO", "OCEANUS"]
    everything, _ = harvest(oai_url, set_="experiment")
    assert len(everything) == len(PUBLIC)
    internal, _ = harvest(oai_url, hub.token("alice"), set_="access:collaboration")
    assert sorted(release_name(r) for r in internal) == TAIGA_INTERNAL
    for token in (None, hub.token("bob")):
        with RecordingScythe(oai_url, token) as scythe, pytest.raises(NoRecordsMatch):
            list(scythe.list_identifiers(set_="access:collaboration"))


def test_bad_and_expired_resumption_tokens(oai_url):
    with RecordingScythe(oai_url) as scythe:
        first = next(iter(scythe.list_identifiers()))
        assert first.identifier
        issued = tokens_of(scythe.responses)[0]["text"]
        payload, _, digest = issued.partition(".")
        tampered = f"{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{digest}"
        expired = encode(ListState(prefix="oai_dc", set_spec=None, from_=None, until=None,
                                   after_id=0, cursor=2, started_utc="2000-01-01T00:00:00",
                                   groups=groups_digest(frozenset({"public"}))))
        for token in ("not-a-token", tampered, expired, issued + "x"):
            with pytest.raises(BadResumptionToken):
                list(scythe.list_records(resumption_token=token))
        for body in scythe.responses:
            validate(body, oai_schema())
        assert b"expired" in scythe.responses[-2]


def test_a_sent_token_must_be_valid(oai_url):
    """No token: anonymous. A bad token is refused, not silently taken as anonymous."""
    reply = httpx.get(oai_url, params={"verb": "Identify"},
                      headers={"Authorization": "token not-a-hub-token"}, timeout=30)
    assert reply.status_code == 401
    reply = httpx.get(oai_url, params={"verb": "Identify"}, timeout=30)
    assert reply.status_code == 200
    validate(reply.content, oai_schema())
