"""The portal connector against the simulated portal: a real HTTP server on loopback."""
from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from connectors.base import ConnectorError
from sandbox.generate import generate_world
from sandbox.servers import serve
from sangkien import store
from sangkien.pipeline.run import run_sync
from sangkien.reference.orgs import load_orgs
from sangkien.store.registry import add_connector, build_connector, edit_connector, get_connector_row

TOKEN = "portal-s3cret-t0ken-value"
ALL_FAULTS = "5xx=0.04,429=0.03,slow=0.02,truncated=0.04,drop=0.03,shift=0.02,update=0.02,slow_delay=1.5,seed=7"


@pytest.fixture(scope="module")
def portal_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("portal") / "world"
    generate_world(root, 500, seed=3, noise="none")
    return root


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANGKIEN_TEST_PORTAL_TOKEN", TOKEN)


def register(engine: sa.Engine, url: str, **settings: object) -> None:
    config = {"base_url": url, "token": "env:SANGKIEN_TEST_PORTAL_TOKEN", "page_size": 50, "timeout": 1.0,
              "attempts": 12, **settings}
    add_connector(engine, "portal", "portal", config)


def landed_ids(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(sa.select(store.raw_records.c.source_record_id)))


def test_a_sync_through_every_fault_kind_lands_each_portal_record_exactly_once(engine, portal_world, token_env):
    load_orgs(engine, portal_world / "orgs.csv")
    with serve("portal", portal_world, faults=ALL_FAULTS, token=TOKEN) as server:
        register(engine, server.url)
        _, [result], _, status = run_sync(engine)
        held = server.system.ids()
        as_truth_ids = {server.system.truth_id(i) for i in landed_ids(engine)}
    ids = landed_ids(engine)
    truth = pd.read_csv(portal_world / "truth.csv", dtype=str).query("source == 'portal'")
    assert as_truth_ids == set(truth["source_record_id"])  # the world's truth, not only the server's view
    assert status == "completed", result.errors
    assert len(ids) == len(set(ids)) == len(held)  # zero duplicated
    assert set(ids) == held  # zero lost
    assert result.received == len(held) == result.accepted + result.ineligible + result.quarantined


def test_a_second_sync_fetches_only_what_changed_and_totals_follow(engine, portal_world, token_env):
    load_orgs(engine, portal_world / "orgs.csv")
    with serve("portal", portal_world, token=TOKEN) as server:
        register(engine, server.url)
        run_sync(engine)
        first_requests = server.system.requests
        changed = server.system.change_records(0.01, seed=1)
        _, [again], _, _ = run_sync(engine)
        second_requests = server.system.requests - first_requests
    assert changed and again.land.changed == len(changed)
    assert again.received < len(changed) + 5  # the changed ones, and the watermark's own record again
    assert second_requests <= 2  # one page of 50 holds them all
    assert first_requests >= len(landed_ids(engine)) // 50


def test_check_names_what_is_wrong_in_one_line(engine, portal_world, token_env, monkeypatch):
    class Html(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html><body>Trang chu</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    html = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Html)
    threading.Thread(target=html.serve_forever, daemon=True).start()
    messages = {}
    with serve("portal", portal_world, token=TOKEN) as server:
        cases = {
            "wrong host": {"base_url": "http://portal.invalid"},
            "wrong port": {"base_url": "http://127.0.0.1:9"},
            "wrong path": {"base_url": server.url + "/congdoan"},
            "not json": {"base_url": f"http://127.0.0.1:{html.server_address[1]}"},
            "wrong token": {"base_url": server.url},
        }
        register(engine, server.url, attempts=1)
        for case, change in cases.items():
            edit_connector(engine, "portal", change)
            if case == "wrong token":
                monkeypatch.setenv("SANGKIEN_TEST_PORTAL_TOKEN", "not-the-token")
            with engine.connect() as conn:
                connector = build_connector(get_connector_row(conn, "portal"))
            with pytest.raises(ConnectorError) as caught:
                connector.check()
            messages[case] = str(caught.value)
    html.shutdown()
    assert "cannot resolve the host" in messages["wrong host"]
    assert "connection refused" in messages["wrong port"]
    assert "(404)" in messages["wrong path"]
    assert "not valid JSON" in messages["not json"]
    assert "refused the credentials (401)" in messages["wrong token"]
    assert len(set(messages.values())) == 5 and all("\n" not in m for m in messages.values())


def test_the_token_appears_nowhere_the_sync_writes(engine, db_url, portal_world, token_env, tmp_path, capfd):
    load_orgs(engine, portal_world / "orgs.csv")
    with serve("portal", portal_world, token=TOKEN, faults="5xx=0.2,seed=2") as server:
        register(engine, server.url)
        run_sync(engine)
    engine.dispose()
    out, err = capfd.readouterr()
    assert TOKEN not in out and TOKEN not in err
    with engine.connect() as conn:
        dumped = "\n".join(str(tuple(row)) for table in store.metadata.sorted_tables
                           for row in conn.execute(sa.select(table)))
    assert TOKEN not in dumped
    if db_url.startswith("sqlite"):
        assert TOKEN.encode() not in Path(db_url.removeprefix("sqlite:///")).read_bytes()
