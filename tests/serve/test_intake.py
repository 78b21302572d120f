"""The intake API at an upper node: who may push what, and what a bad, repeated or late push does.

Every refusal must store nothing and be logged; a repeat or a retry must count once.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import threading
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from connectors.http import RetryPolicy
from sangkien import store
from sangkien.pipeline.push import push
from sangkien.pipeline.rollup import roll_up
from sangkien.reference.orgs import load_orgs
from sangkien.serve.api import create_app, serve_in_thread
from sangkien.store.nodes import add_child, revoke_child
from sangkien.store.settings import set_setting

KEY = "ab" * 16


def _entry(unit: str, key: str = KEY, status: str = "valid") -> dict:
    return {"keys": [key], "unit_code": unit, "phase": 1, "status": status, "benefit_vnd": None, "records": 1,
            "people": []}


def _unit(unit: str, valid: int = 1) -> dict:
    return {"unit_code": unit, "phase": 1, "records": valid, "initiatives": valid, "valid": valid, "pending": 0,
            "rejected": 0, "ineligible": 0, "registrants": valid, "benefit_vnd": 0.0, "duplicates_removed": 0}


def payload(node: str = "P01", as_of: str = "2026-11-20T01:30:00+07:00", key: str = "P01:20261119T183000Z:abc123def456",
            entries: list | None = None, units: list | None = None, program: str | None = None) -> dict:
    """A submission body; ``program`` None: without the field, as a node on 1trieu sends it."""
    body = {"version": 1, "node": node, "as_of": as_of, "idempotency_key": key,
            "units": units if units is not None else [_unit("G001")],
            "initiatives": entries if entries is not None else [_entry("G001")], "ineligible": []}
    return body if program is None else {**body, "program": program}


@pytest.fixture
def upper(engine, world):  # type: ignore[no-untyped-def]
    """The national node: the small org tree, a token for P01, and its intake served on loopback."""
    load_orgs(engine, world.root / "orgs.csv")
    with engine.begin() as conn:
        token = add_child(conn, "P01")
        other = add_child(conn, "NGANHANG")
        set_setting(conn, "program_key", "env:SANGKIEN_TEST_PROGRAM_KEY")
        set_setting(conn, "code", "VGCL")
    with serve_in_thread(create_app(engine, max_bytes=64 * 1024)) as url:
        yield {"engine": engine, "url": url, "token": token, "other": other}


def _post(upper, body, token=None, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token or upper['token']}"}
    return requests.post(upper["url"] + "/api/v1/submissions", json=body, headers=headers, timeout=30, **kwargs)


def _stored(engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return (conn.scalar(sa.select(sa.func.count()).select_from(store.submissions)),
                conn.scalar(sa.select(sa.func.count()).select_from(store.submission_entries)))


def test_a_submission_is_stored_with_a_receipt(upper) -> None:  # type: ignore[no-untyped-def]
    reply = _post(upper, payload())
    assert reply.status_code == 201, reply.text
    receipt = reply.json()
    assert receipt["node"] == "P01" and receipt["initiatives"] == 1 and receipt["replayed"] is False
    assert _stored(upper["engine"]) == (1, 1)


def test_a_repeated_key_returns_the_first_receipt_and_stores_nothing_more(upper) -> None:  # type: ignore[no-untyped-def]
    first = _post(upper, payload()).json()
    again = _post(upper, payload())
    assert again.status_code == 200
    assert again.json() == {**first, "replayed": True}
    assert _stored(upper["engine"]) == (1, 1)


def test_the_latest_as_of_counts_even_when_an_older_push_arrives_later(upper, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SANGKIEN_TEST_PROGRAM_KEY", "k")
    newer = payload(as_of="2026-11-20T01:30:00+07:00", key="P01:new-0000000000000",
                    entries=[_entry("G001", "aa" * 16), _entry("G002", "bb" * 16)], units=[_unit("P01", 2)])
    older = payload(as_of="2026-11-19T01:30:00+07:00", key="P01:old-0000000000000",
                    entries=[_entry("G001", "aa" * 16)], units=[_unit("P01", 1)])
    assert _post(upper, newer).status_code == 201
    assert _post(upper, older).status_code == 201  # kept (append-only), but not the one that counts
    roll_up(upper["engine"], None)
    with upper["engine"].connect() as conn:
        valid = conn.scalar(sa.select(store.unit_counts.c.valid).where(store.unit_counts.c.unit_code == "VGCL"))
    assert valid == 2


def test_an_initiative_pushed_by_two_parents_counts_once(upper, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SANGKIEN_TEST_PROGRAM_KEY", "k")
    shared = "cd" * 16
    assert _post(upper, payload(entries=[_entry("G001", shared)])).status_code == 201
    bank = payload(node="NGANHANG", key="NGANHANG:0000000000000000", units=[_unit("NGANHANG")],
                   entries=[_entry("G001", shared)])
    assert _post(upper, bank, token=upper["other"]).status_code == 201
    roll_up(upper["engine"], None)
    with upper["engine"].connect() as conn:
        counts = dict(conn.execute(sa.select(store.unit_counts.c.unit_code, store.unit_counts.c.initiatives)).all())
    assert counts["VGCL"] == 1 and counts["P01"] == 1 and counts["NGANHANG"] == 1


@pytest.mark.parametrize("token", ["", "sk_not-a-token", "Basic abc"])
def test_a_wrong_token_is_401_and_stores_nothing(upper, token, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING, "sangkien.intake")
    headers = {"Authorization": token if token.startswith("Basic") else f"Bearer {token}"}
    reply = requests.post(upper["url"] + "/api/v1/submissions", json=payload(), headers=headers, timeout=30)
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"] == "Bearer"
    assert _stored(upper["engine"]) == (0, 0)
    assert "missing or unknown token" in caplog.text


def test_a_revoked_token_is_401(upper) -> None:  # type: ignore[no-untyped-def]
    with upper["engine"].begin() as conn:
        revoke_child(conn, "P01")
    assert _post(upper, payload()).status_code == 401


def test_another_nodes_unit_is_403_and_stores_nothing(upper, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING, "sangkien.intake")
    reply = _post(upper, payload(entries=[_entry("G003")]))  # G003 is in Thái Bình
    assert reply.status_code == 403
    assert "G003" in reply.json()["detail"]
    assert _post(upper, payload(node="NGANHANG")).status_code == 403  # P01's token, another node's name
    assert _stored(upper["engine"]) == (0, 0)
    assert "outside its subtree" in caplog.text and "says it comes from NGANHANG" in caplog.text


@pytest.mark.parametrize("change, field", [
    (lambda p: p["units"][0].update(valid=-1), "units.0.valid"),
    (lambda p: p["initiatives"][0].update(status="approved"), "initiatives.0.status"),
    (lambda p: p["initiatives"][0].update(keys=["not hex"]), "initiatives.0.keys.0"),
    (lambda p: p.pop("as_of"), "as_of"),
    (lambda p: p.update(as_of="2026-11-20T01:30:00"), "as_of"),  # no time zone
    (lambda p: p.update(extra=1), "extra"),
    (lambda p: p["units"].append(dict(p["units"][0])), "listed twice"),
])
def test_a_bad_payload_is_422_naming_the_field(upper, change, field, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING, "sangkien.intake")
    body = payload()
    change(body)
    reply = _post(upper, body)
    assert reply.status_code == 422
    named = " ".join(".".join(str(p) for p in e["loc"][1:]) + " " + e["msg"] for e in reply.json()["detail"])
    assert field in named
    assert _stored(upper["engine"]) == (0, 0)
    assert "invalid" in caplog.text


def test_a_body_that_is_not_json_is_422(upper) -> None:  # type: ignore[no-untyped-def]
    reply = requests.post(upper["url"] + "/api/v1/submissions", data=b"{not json",
                          headers={"Authorization": f"Bearer {upper['token']}", "Content-Type": "application/json"},
                          timeout=30)
    assert reply.status_code == 422
    assert _stored(upper["engine"]) == (0, 0)


def test_a_submission_over_the_size_limit_is_413(upper) -> None:  # type: ignore[no-untyped-def]
    body = payload(entries=[_entry("G001", f"{i:032x}") for i in range(1000)])
    reply = _post(upper, body)
    assert reply.status_code == 413
    assert "limit" in reply.json()["detail"]
    chunked = requests.post(upper["url"] + "/api/v1/submissions", data=iter([b"{" + b" " * 70_000, b"}"]),
                            headers={"Authorization": f"Bearer {upper['token']}"}, timeout=30)
    assert chunked.status_code == 413  # no Content-Length: counted while reading
    assert _stored(upper["engine"]) == (0, 0)


READS = ("/api/v1/totals", "/api/v1/reconciliation", "/api/v1/dashboard", "/")


def test_reading_needs_a_token_even_from_loopback_whatever_the_proxy_headers_say(upper) -> None:  # type: ignore[no-untyped-def]
    local = {"Forwarded": "for=127.0.0.1;proto=http", "X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"}
    for path in READS:
        assert requests.get(upper["url"] + path, timeout=30).status_code == 401, path
        assert requests.get(upper["url"] + path, headers=local, timeout=30).status_code == 401, path
        assert requests.get(upper["url"] + path, headers={"Authorization": "Bearer not-a-token"},
                            timeout=30).status_code == 401, path
        token = {"Authorization": f"Bearer {upper['token']}"}
        assert requests.get(upper["url"] + path, headers=token, timeout=30).status_code == 200, path
    spec = requests.get(upper["url"] + "/openapi.json", timeout=30).json()
    assert "/api/v1/submissions" in spec["paths"] and "Submission" in str(spec)


def test_the_operator_may_open_reads_to_anyone(engine, world) -> None:  # type: ignore[no-untyped-def]
    load_orgs(engine, world.root / "orgs.csv")
    with serve_in_thread(create_app(engine, public_reads=True)) as url:
        for path in READS:
            assert requests.get(url + path, timeout=30).status_code == 200, path
        assert requests.post(url + "/api/v1/submissions", json=payload(), timeout=30).status_code == 401


def test_the_spec_lists_every_status_a_read_answers(upper) -> None:  # type: ignore[no-untyped-def]
    paths = requests.get(upper["url"] + "/openapi.json", timeout=30).json()["paths"]
    assert requests.get(upper["url"] + "/api/v1/totals", params={"unit": "NOPE"},
                        headers={"Authorization": f"Bearer {upper['token']}"}, timeout=30).status_code == 404
    assert requests.get(upper["url"] + "/api/v1/dashboard/units/NOPE",
                        headers={"Authorization": f"Bearer {upper['token']}"}, timeout=30).status_code == 404
    assert {"200", "401", "404", "422"} <= set(paths["/api/v1/totals"]["get"]["responses"])
    assert {"200", "401", "404"} <= set(paths["/api/v1/dashboard/units/{code}"]["get"]["responses"])
    assert "401" in paths["/api/v1/dashboard"]["get"]["responses"]


class _DropFirstReply:
    """A loopback proxy that forwards every request, but drops the connection instead of returning the first
    reply: the push reached the node above, the receipt was lost on the way back."""

    def __init__(self, target: str):
        self.host, self.port = target.removeprefix("http://").split(":")
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.dropped = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with client:
                request = self._read_request(client)
                with socket.create_connection((self.host, int(self.port))) as upstream:
                    upstream.sendall(request)
                    reply = self._read_all(upstream)
                if self.dropped == 0:
                    self.dropped += 1
                    continue  # close without answering
                client.sendall(reply)

    @staticmethod
    def _read_request(conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        while len(body) < length:
            body += conn.recv(65536)
        head = b"\r\n".join(line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection"))
        return head + b"\r\nConnection: close\r\n\r\n" + body

    @staticmethod
    def _read_all(conn: socket.socket) -> bytes:
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def test_a_push_whose_receipt_is_lost_is_retried_and_counted_once(upper, world, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The child's push goes through a proxy that loses the first reply: the client retries with the same
    idempotency key and gets the first receipt back; the national node holds one submission."""
    from sangkien.store import open_store

    monkeypatch.setenv("SANGKIEN_TEST_PROGRAM_KEY", "k")
    monkeypatch.setenv("SANGKIEN_TEST_UPSTREAM", upper["token"])
    child = open_store(f"sqlite:///{tmp_path / 'p01.db'}")
    load_orgs(child, world.root / "orgs.csv")
    proxy = _DropFirstReply(upper["url"])
    with child.begin() as conn:
        for key, value in (("code", "P01"), ("program_key", "env:SANGKIEN_TEST_PROGRAM_KEY"),
                           ("upstream_url", proxy.url), ("upstream_token", "env:SANGKIEN_TEST_UPSTREAM")):
            set_setting(conn, key, value)
        conn.execute(store.unit_counts.insert().values(
            unit_code="P01", phase=1, records=3, initiatives=2, valid=2, pending=0, rejected=0, ineligible=1,
            registrants=2, benefit_vnd=0.0, run_id=None, as_of=dt.datetime(2026, 11, 20, tzinfo=dt.UTC)))
    result = push(child, policy=RetryPolicy(attempts=3, initial_wait=0.05, max_wait=0.1, timeout=10))
    assert proxy.dropped == 1
    assert result.status == "replayed"  # the second attempt was answered with the first receipt
    assert _stored(upper["engine"])[0] == 1
    with child.connect() as conn:
        assert conn.scalar(sa.select(store.pushes.c.status)) == "replayed"


RACE_ROUNDS = 8
RACE_BODIES = 20


def test_concurrent_pushes_under_one_key_never_replay_a_different_body(upper) -> None:  # type: ignore[no-untyped-def]
    """20 pushes at once under one key, each with another body: one is stored, the other 19 are refused (409);
    none is told "replayed" for content that was never stored."""
    from schemas.push import Submission, content_hash

    outcomes = []
    for round_no in range(RACE_ROUNDS):
        key = f"P01:race-{round_no:02d}-00000000000"
        bodies = [payload(key=key, entries=[_entry("G001", f"{n:02x}" * 16)]) for n in range(RACE_BODIES)]
        start = threading.Barrier(RACE_BODIES)
        replies: list[requests.Response | None] = [None] * RACE_BODIES

        def push_one(n: int, bodies: list[dict] = bodies, start: threading.Barrier = start,
                     replies: list[requests.Response | None] = replies) -> None:
            with requests.Session() as session:
                session.get(upper["url"] + "/openapi.json", timeout=30)  # connected before the start line
                start.wait()
                replies[n] = session.post(upper["url"] + "/api/v1/submissions", json=bodies[n], timeout=60,
                                          headers={"Authorization": f"Bearer {upper['token']}"})

        threads = [threading.Thread(target=push_one, args=(n,)) for n in range(RACE_BODIES)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = [r.status_code for r in replies if r is not None]
        outcomes.append(codes)
        for n, reply in enumerate(replies):
            assert reply is not None
            if reply.status_code in (200, 201):  # whoever is told "stored" or "replayed" has its own body stored
                sub = Submission.model_validate(bodies[n])
                assert reply.json()["content_hash"] == content_hash(sub.units, sub.initiatives, sub.ineligible), \
                    f"round {round_no}: body {n} answered {reply.status_code} for another body's content"
        assert sorted(codes) == [201] + [409] * (RACE_BODIES - 1), f"round {round_no}: {sorted(codes)}"
    assert _stored(upper["engine"]) == (RACE_ROUNDS, RACE_ROUNDS)


# --- pushes per program (issue 20) ---------------------------------------------------------------------------

ROUNDS_CSV = "phase,name,starts_on,ends_on,counts_from\n1,Đợt 1,2022-01-01,2022-06-30,2021-09-01\n" \
             "2,Đợt 2,2022-07-01,2022-12-31,2021-09-01\n"


def _add_rounds(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from sangkien.reference.phases import load_phases
    from sangkien.reference.programs import add_program

    add_program(engine, "VC-2022", "Thi đua 2022, CĐ Viên chức", dt.date(2021, 9, 1), dt.date(2022, 12, 31))
    (tmp_path / "rounds.csv").write_text(ROUNDS_CSV, encoding="utf-8")
    load_phases(engine, tmp_path / "rounds.csv", program="VC-2022")


def _valid(engine, unit: str, program: str | None = None) -> int:  # type: ignore[no-untyped-def]
    from sangkien.present.report import report_rows

    with engine.connect() as conn:
        return sum(r["valid"] for r in report_rows(conn, unit=unit, program=program)[1] if r["phase"] == 1)


def test_a_push_without_a_program_counts_for_the_default_program_and_one_with_a_program_for_that_one(
        upper, tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from sangkien.cli.main import main

    monkeypatch.setenv("SANGKIEN_TEST_PROGRAM_KEY", "k")
    engine = upper["engine"]
    _add_rounds(engine, tmp_path)
    older = payload(entries=[_entry("G001", "aa" * 16)])  # as a child sent before programs existed
    assert "program" not in older
    assert _post(upper, older).status_code == 201
    rounds = payload(key="P01:vc-00000000000000", entries=[_entry("G001", "bb" * 16), _entry("G002", "cc" * 16)],
                     units=[_unit("P01", 2)], program="VC-2022")
    assert _post(upper, rounds).status_code == 201
    with engine.connect() as conn:
        assert dict(conn.execute(sa.select(store.submissions.c.program, sa.func.count())
                                 .group_by(store.submissions.c.program)).tuples().all()) == {"1trieu": 1, "VC-2022": 1}
    assert main(["--db", engine.url.render_as_string(hide_password=False), "nodes", "list"]) == 0
    listed = capsys.readouterr().out
    assert "1 submission(s) for 1trieu" in listed and "1 submission(s) for VC-2022" in listed
    roll_up(engine, None)
    assert _valid(engine, "VGCL") == 1  # the nightly counts: the default program's push only
    assert _valid(engine, "VGCL", "1trieu") == 1
    assert _valid(engine, "VGCL", "VC-2022") == 2  # the rounds: the push for them
    # a newer push for the rounds replaces the older one for the rounds only
    newer = payload(key="P01:vc-11111111111111", as_of="2026-11-21T01:30:00+07:00",
                    entries=[_entry("G002", "cc" * 16)], units=[_unit("P01", 1)], program="VC-2022")
    assert _post(upper, newer).status_code == 201
    roll_up(engine, None)
    assert (_valid(engine, "VGCL"), _valid(engine, "VGCL", "VC-2022")) == (1, 1)


def test_the_same_counts_pushed_for_two_programs_are_two_submissions_not_a_replay(upper, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _add_rounds(upper["engine"], tmp_path)
    from schemas.push import Submission, content_hash, idempotency_key

    base = Submission.model_validate(payload())
    for program in (None, "VC-2022"):
        digest = content_hash(base.units, base.initiatives, base.ineligible, program)
        reply = _post(upper, payload(key=idempotency_key("P01", base.as_of, digest), program=program))
        assert reply.status_code == 201 and reply.json()["replayed"] is False
    assert _stored(upper["engine"])[0] == 2


def test_a_push_for_a_program_this_node_does_not_hold_is_422_naming_the_known_ones(upper, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.WARNING, logger="sangkien.serve"):
        reply = _post(upper, payload(program="VC-2023"))
    assert reply.status_code == 422
    [error] = reply.json()["detail"]
    assert error["loc"] == ["body", "program"]
    assert error["msg"].startswith("this node holds no program 'VC-2023'; known programs: 1trieu")
    assert _stored(upper["engine"]) == (0, 0)
    assert "VC-2023" in caplog.text


def _pushing_child(upper, world, tmp_path: Path, monkeypatch, rows: dict) -> tuple:  # type: ignore[no-untyped-def]
    """A child store P01 synced from ``rows`` (per source) that pushes to ``upper``, and the list of the bodies
    it sends."""
    from connectors.http import HttpClient
    from sangkien.store import open_store
    from tests.pipeline.test_reconcile import sync_world

    monkeypatch.setenv("SANGKIEN_TEST_PROGRAM_KEY", "k")
    monkeypatch.setenv("SANGKIEN_TEST_UPSTREAM", upper["token"])
    child = open_store(f"sqlite:///{tmp_path / 'p01.db'}")
    sync_world(child, world, rows)
    with child.begin() as conn:
        for key, value in (("code", "P01"), ("program_key", "env:SANGKIEN_TEST_PROGRAM_KEY"),
                           ("upstream_url", upper["url"]), ("upstream_token", "env:SANGKIEN_TEST_UPSTREAM")):
            set_setting(conn, key, value)
    sent: list[bytes] = []
    original = HttpClient.post_json
    monkeypatch.setattr(HttpClient, "post_json",
                        lambda self, url, body: (sent.append(body), original(self, url, body))[1])
    return child, sent


def test_a_child_pushes_its_default_program_and_names_it_only_when_it_is_not_1trieu(upper, world, tmp_path,
                                                                                   monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A real child store: on 1trieu its body has no program field (an older node above takes it); made to count
    the rounds, its next push names them, and the node above counts it for them."""
    from sangkien.pipeline.revalidate import make_default
    from tests.pipeline.test_reconcile import row

    (tmp_path / "upper").mkdir()
    _add_rounds(upper["engine"], tmp_path / "upper")
    child, sent = _pushing_child(upper, world, tmp_path, monkeypatch,
                                 {"hanoi": [row("R-1", "Sổ theo dõi công văn điện tử"),
                                            row("R-2", "Phần mềm xếp thời khoá biểu", unit="G001")]})
    assert push(child).status == "accepted"
    assert b'"program"' not in sent[-1]
    _add_rounds(child, tmp_path)
    make_default(child, "VC-2022")
    result = push(child)
    assert result.status == "accepted" and b'"program":"VC-2022"' in sent[-1]
    roll_up(upper["engine"], None)
    assert _valid(upper["engine"], "P01", "VC-2022") == _valid(child, "P01") == 2
    assert _valid(upper["engine"], "P01") == 2  # the first push, for 1trieu, still counts for it
    # reconciling the rounds' pushes: P01 pushed 2 valid for round 1, this node's own sources hold none
    from sangkien.present.reconcile_render import render_reconciliation

    with upper["engine"].connect() as conn:
        found = json.loads(render_reconciliation(conn, "json", "pushes", program="VC-2022"))["discrepancies"]
    counts = {(r["unit_code"], r["phase"], r["cause"]): (r["expected"], r["actual"]) for r in found}
    assert counts[("P01", 1, "pushed_count_valid")] == (0, 2)


def test_an_upper_node_ranks_its_clusters_per_quarter_with_the_days_its_children_pushed(upper, tmp_path,
                                                                                        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sangkien.present.cluster_ranks import cluster_rows
    from sangkien.reference.clusters import load_clusters
    from tests.pipeline.test_clusters import CLUSTERS

    monkeypatch.setenv("SANGKIEN_TEST_PROGRAM_KEY", "k")
    engine = upper["engine"]
    (tmp_path / "clusters.csv").write_text(CLUSTERS, encoding="utf-8")
    load_clusters(engine, tmp_path / "clusters.csv")
    days = {"aa": "2022-02-10", "bb": "2022-04-20", "cc": None}  # the last from a child with push_dates off
    entries = [{**_entry("G001", key * 16), **({"submitted_on": day} if day else {})} for key, day in days.items()]
    assert _post(upper, payload(entries=entries, units=[_unit("P01", 3)])).status_code == 201
    roll_up(engine, None)
    with engine.connect() as conn:
        rows = cluster_rows(conn, phase=1)
    p01 = {r["quarter"]: r["valid"] for r in rows if r["unit_code"] == "P01"}
    assert p01[None] == 3  # the whole phase: every entry
    assert (p01["2021-Q4"], p01["2022-Q1"], p01["2022-Q2"]) == (0, 1, 2)  # up to each quarter's end, by its day


def test_a_child_sends_the_days_only_when_push_dates_is_on(upper, world, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.pipeline.test_reconcile import row

    child, sent = _pushing_child(upper, world, tmp_path, monkeypatch,
                                 {"hanoi": [row("R-1", "Sổ theo dõi công văn điện tử")]})
    assert push(child).status == "accepted"
    assert b"submitted_on" not in sent[-1]  # as nodes sent before: an older node above takes it
    with child.begin() as conn:
        set_setting(conn, "push_dates", "yes")
    assert push(child).status == "accepted"  # the days change the content: sent again
    assert b'"submitted_on":"2022-03-05"' in sent[-1]
    with upper["engine"].connect() as conn:
        stored = conn.scalar(sa.select(store.submission_entries.c.submitted_on)
                             .order_by(store.submission_entries.c.submission_id.desc()).limit(1))
    assert stored == dt.date(2022, 3, 5)
