"""Export quota by bytes, deletion, and the access record of exports (logic, injected
user). The attacks themselves (quota by count, removal from a group, forged cross-site
requests) run as real users behind a real hub in tests/security/test_web_attacks.py."""
from __future__ import annotations

from sqlalchemy.orm import Session

from dlclab.metadata.db import open_catalogue
from dlclab.metadata.models import ExportRequest
from dlclab.service.auth import User
from tests.service.conftest import make_client
from tests.service.test_api import wait_done

OCEANUS = {"format": "HDF5", "query": {"release": "OCEANUS"}, "quantities": ["energy"]}


def test_byte_quota_refuses_new_requests_and_oversized_results(lab):
    user = User("quota-bytes", frozenset())
    with make_client(lab, user) as roomy:
        first = wait_done(roomy, roomy.post("/api/exports", json=OCEANUS).json()["id"])
        assert first["status"] == "done" and first["size_bytes"] > 0
        size = first["size_bytes"]
    # the same user under a byte limit their finished export already fills
    with make_client(lab, user, export_quota_bytes=size) as full:
        reply = full.post("/api/exports", json=OCEANUS)
        assert reply.status_code == 429, reply.text
        assert "storage quota reached" in reply.json()["detail"]
        assert "delete" in reply.json()["detail"]
        assert full.delete(f"/api/exports/{first['id']}").status_code == 204
        assert full.get(f"/api/exports/{first['id']}").status_code == 404
        assert not (lab["export_dir"] / f"{first['id']}.h5").exists()
    # a limit below one result: the request is taken, its result is not kept
    with make_client(lab, user, export_quota_bytes=size - 1) as small:
        status = wait_done(small, small.post("/api/exports", json=OCEANUS).json()["id"])
        assert status["status"] == "failed" and "quota" in status["error"], status
        assert not list(lab["export_dir"].glob(f"{status['id']}.*"))
        assert small.delete(f"/api/exports/{status['id']}").status_code == 204


def test_exports_record_their_sources_and_unrecorded_ones_are_not_served(lab):
    user = User("sources", frozenset({"taiga"}))
    with make_client(lab, user) as client:
        done = wait_done(client, client.post("/api/exports", json={
            **OCEANUS, "query": {"release": "TSIM1"}}).json()["id"])
        assert done["status"] == "done", done
        engine = open_catalogue(lab["db_url"], seed=False)
        with Session(engine) as s, s.begin():
            row = s.get(ExportRequest, done["id"])
            assert row.sources["storages"] == ["releases"] and len(row.sources["releases"]) == 1
            row.sources = None  # as an export made before catalogue revision 0003
        engine.dispose()
        reply = client.get(done["download_url"])
        assert reply.status_code == 403 and "request it again" in reply.json()["detail"]
        listed = {r["id"]: r for r in client.get("/api/exports").json()}[done["id"]]
        assert listed["download_url"] is None and "request it again" in listed["error"]
        assert client.delete(f"/api/exports/{done['id']}").status_code == 204


def test_another_users_export_cannot_be_deleted(member, outsider):
    mine = member.post("/api/exports", json=OCEANUS).json()["id"]
    assert outsider.delete(f"/api/exports/{mine}").status_code == 404
    assert member.get(f"/api/exports/{mine}").status_code == 200
