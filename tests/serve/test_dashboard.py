"""The dashboard: its JSON on the demo world, and the page in headless Chromium.

The world is the one `sangkien demo` makes (3,000 initiatives, seed 2022, every source),
synced once. The page is served by a real uvicorn server on 127.0.0.1 (a thread, a free
port) and driven by Playwright in Debian's /usr/bin/chromium (no browser download).
Without chromium or playwright the browser tests are skipped with the reason, and fail
under CI=true. Screenshots go to test-artifacts/ (or $SANGKIEN_TEST_ARTIFACTS).
"""
from __future__ import annotations

import datetime as dt
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sandbox.generate import generate_world
from sangkien import store
from sangkien.pipeline.run import run_sync
from sangkien.present.report import report_rows
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.serve import dashboard
from sangkien.serve.api import create_app
from sangkien.store.registry import add_connector, read_config_file
from sangkien.text.fold import fold
from tests.conftest import IN_CI
from tests.pipeline.test_sync_store import BANK_ROW
from tests.present.words import untranslated

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__import__("os").environ.get("SANGKIEN_TEST_ARTIFACTS",
                                              Path(__file__).resolve().parents[2] / "test-artifacts"))
# Chromium as root in a sandboxed machine with no network: no sandbox, no background calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
MARKUP_NAME = 'Công đoàn <img src=x onerror="window.injected=1"> & <b>Co</b>'
NIGHTS = 4
DEMO_INITIATIVES, DEMO_SEED = 3000, 2022  # `sangkien demo`'s world
MAX_HEIGHT = 6000  # px: the national page, on a wide screen and on a phone
ITEMS_PER_PAGE = 25  # the page's list of a worklist row's initiatives (dashboard.js ITEMS)
SECOND_BANK_ROW = ("HN-5;;Cải tiến quy trình mở tài khoản trực tuyến;Đỗ Thị Hoa;G001;Công nghệ thông tin;"
                   "Giải pháp quản lý;01/03/2022;15/02/2022;20/03/2022;Hợp lệ;")


# --- the world ----------------------------------------------------------------------------

def _app(engine: sa.Engine) -> FastAPI:
    app = FastAPI()
    app.state.engine = engine
    app.include_router(dashboard.router)
    return app


def _record_nights(engine: sa.Engine, nights: int) -> None:
    """count_history as nightly roll-ups would leave it: today's counts, smaller on earlier nights (in place of
    the one point the sync's own roll-up left)."""
    with engine.begin() as conn:
        conn.execute(store.count_history.delete())
        counts = conn.execute(sa.select(store.unit_counts)).mappings().all()
        rows = []
        for night in range(nights):
            share = (night + 1) / nights
            stamp = dt.datetime(2023, 8, 1, 19, 30, tzinfo=dt.UTC) + dt.timedelta(days=night)
            for c in counts:
                rows.append({"run_id": c["run_id"], "as_of": stamp, "unit_code": c["unit_code"], "phase": c["phase"],
                             **{k: int(c[k] * share) for k in ("records", "initiatives", "valid", "pending",
                                                               "rejected", "ineligible", "registrants")},
                             "benefit_vnd": c["benefit_vnd"] * share})
        conn.execute(store.count_history.insert(), rows)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    """The demo world (63 provinces, the sector unions, every source) synced once, with a few nights of history."""
    root = tmp_path_factory.mktemp("dashboard")
    generate_world(root / "world", DEMO_INITIATIVES, seed=DEMO_SEED, noise="none")
    engine = store.open_store(f"sqlite:///{root / 'store.db'}")
    load_orgs(engine, root / "world" / "orgs.csv")
    load_quotas(engine, root / "world" / "quotas.csv")
    for config in sorted((root / "world" / "sources").glob("*.yaml")):
        add_connector(engine, config.stem, "files", read_config_file(config))
    assert run_sync(engine).status == "completed"
    with engine.begin() as conn:  # a unit whose name is markup, under the first province
        conn.execute(store.org_units.insert().values(code="XSS1", name=MARKUP_NAME, kind="grassroots",
                                                     parent_code="P01-D01" if _exists(conn, "P01-D01") else "P01"))
    _record_nights(engine, NIGHTS)
    return engine


def _exists(conn: sa.Connection, code: str) -> bool:
    return conn.execute(sa.select(store.org_units.c.code).where(store.org_units.c.code == code)).first() is not None


@pytest.fixture(scope="module")
def client(engine: sa.Engine) -> TestClient:
    return TestClient(_app(engine))


class LoopbackServer:
    """``app`` under uvicorn in a thread, on a port the OS picked on 127.0.0.1."""

    def __init__(self, app: FastAPI):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the dashboard server did not start on loopback")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.socket.close()


@pytest.fixture(scope="module")
def server(engine: sa.Engine) -> Iterator[LoopbackServer]:
    with LoopbackServer(_app(engine)) as running:
        yield running


# --- the JSON -----------------------------------------------------------------------------

def _under(conn: sa.Connection, code: str) -> set[str]:
    u = store.org_units
    return set(conn.scalars(sa.select(u.c.code).where(sa.or_(u.c.parent_code == code,
                                                              u.c.sector_parent_code == code))))


def _completion(unit: dict[str, Any], phase: int) -> float | None:
    return next(f["completion"] for f in unit["phases"] if f["phase"] == phase)


def test_the_summary_holds_the_national_unit_and_the_units_directly_under_it_ranked_by_completion(client, engine):
    body = client.get("/api/v1/dashboard").json()
    with engine.connect() as conn:
        top = _under(conn, "VGCL")
    assert set(body) == {"as_of", "phases", "rank_phase", "unit", "path", "children", "history", "sources",
                         "worklist", "targets", "clusters", "program", "programs"}
    assert body["program"]["code"] == "1trieu" and len(body["programs"]) == 1  # one program: no switch on the page
    assert body["unit"]["code"] == "VGCL" and body["path"] == []
    assert len(top) == 83 and {u["code"] for u in body["children"]} == top  # 63 provinces and 20 sector unions
    assert [p["phase"] for p in body["phases"]] == [1, 2] and body["rank_phase"] == 2
    ranked = [_completion(u, 2) for u in body["children"]]
    known = [c for c in ranked if c is not None]
    assert known == sorted(known, reverse=True) and ranked[:len(known)] == known  # no target: last
    assert set(body["children"][0]) == {"code", "name", "kind", "children", "phases"}
    assert set(body["unit"]["phases"][0]) == {"phase", "basis", "counted", "target", "completion", "records",
                                              "initiatives", "valid", "pending", "rejected", "registrants"}
    assert set(body["children"][0]["phases"][0]) == {"phase", "basis", "counted", "target", "completion"}


def test_the_national_figures_are_the_reports(client, engine):
    national = client.get("/api/v1/dashboard").json()["unit"]
    with engine.connect() as conn:
        as_of, rows = report_rows(conn, unit="VGCL")
    assert client.get("/api/v1/dashboard").json()["as_of"] == as_of
    for row in rows:
        shown = next(f for f in national["phases"] if f["phase"] == row["phase"])
        assert shown["basis"] == "valid" and shown["counted"] == row["valid"] > 0
        assert (shown["target"], shown["completion"], shown["records"]) == (row["target"], row["completion"],
                                                                            row["records"])


def test_a_ranking_phase_can_be_asked_for(client):
    body = client.get("/api/v1/dashboard?phase=1").json()
    known = [c for c in (_completion(u, 1) for u in body["children"]) if c is not None]
    assert body["rank_phase"] == 1 and known == sorted(known, reverse=True)


def test_a_unit_answers_with_its_children_its_path_and_its_figures(client, engine):
    body = client.get("/api/v1/dashboard/units/P01").json()
    with engine.connect() as conn:
        children = _under(conn, "P01")
        _, rows = report_rows(conn, unit="P01")
    assert body["unit"]["code"] == "P01"
    assert body["path"] == [{"code": "VGCL", "name": "Tổng Liên đoàn Lao động Việt Nam"}]
    assert {u["code"] for u in body["children"]} == children and body["unit"]["children"] == len(children)
    assert [f["valid"] for f in body["unit"]["phases"]] == [r["valid"] for r in sorted(rows, key=lambda r: r["phase"])]
    assert "sources" not in body  # the drill-down carries the unit's view only


def test_an_unknown_unit_is_a_404_that_says_where_codes_come_from(client):
    reply = client.get("/api/v1/dashboard/units/NO-SUCH-UNIT")
    assert reply.status_code == 404
    assert "unknown unit 'NO-SUCH-UNIT'" in reply.json()["detail"] and "orgs list" in reply.json()["detail"]


def test_the_history_is_one_point_per_night_and_phase_on_the_quota_basis(client, engine):
    history = client.get("/api/v1/dashboard").json()["history"]
    assert len(history) == NIGHTS * 2 and [h["as_of"] for h in history] == sorted(h["as_of"] for h in history)
    assert history[0]["as_of"] == "2023-08-01T19:30:00+00:00"
    last = {h["phase"]: h["counted"] for h in history[-2:]}
    with engine.connect() as conn:
        assert last == {r["phase"]: r["valid"] for r in report_rows(conn, unit="VGCL")[1]}


def test_each_source_shows_its_last_sync_and_a_failed_one_says_why(client, engine):
    with engine.begin() as conn:
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)  # the next night's run
        run = conn.execute(store.sync_runs.insert().values(started_at=later, status="failed")).inserted_primary_key[0]
        conn.execute(store.sync_run_sources.insert().values(run_id=run, source="hanoi", error_type="transient",
                                                            error="connection refused"))
    try:
        sources = {s["source"]: s for s in client.get("/api/v1/dashboard").json()["sources"]}
    finally:
        with engine.begin() as conn:
            conn.execute(store.sync_runs.delete().where(store.sync_runs.c.id == run))
    assert set(sources) == {"portal", "hanoi", "thaibinh_yte", "nganhang", "hcm", "danang", "baocao_tinh"}
    assert sources["hanoi"]["status"] == "failed" and sources["hanoi"]["error"] == "connection refused"
    hanoi = sources["hanoi"]
    assert hanoi["last_ok_at"] is not None and hanoi["last_ok_at"] < hanoi["last_sync_at"]
    assert sources["portal"]["status"] == "ok" and sources["portal"]["received"] > 0


def test_the_page_and_its_assets_are_served_locally_under_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and '<html lang="vi">' in page.text and "Tiến độ toàn quốc" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    english = client.get("/?lang=en").text
    assert '<html lang="en">' in english and "National progress" in english
    for name in ("dashboard.css", "dashboard.js"):
        asset = client.get(f"/static/{name}")
        text = asset.text.replace('"http://www.w3.org/2000/svg"', "")  # the SVG namespace is a name, not a fetch
        assert asset.status_code == 200 and not re.search(r"https?://|url\(", text)  # no CDN, no web fonts
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)
    assert client.get("/static/labels.vi.json").status_code == 404
    assert client.get("/static/../dashboard.py").status_code == 404


def _on_screen(client: TestClient, code: str) -> set[str]:
    return {code} | {u["code"] for u in client.get(f"/api/v1/dashboard/units/{code}").json()["children"]}


def test_the_worklist_is_the_top_twenty_for_the_units_on_screen_and_follows_a_drill_down(client):
    national = client.get("/api/v1/dashboard").json()["worklist"]
    hanoi = client.get("/api/v1/dashboard/units/P01").json()["worklist"]
    for view, code in ((national, "VGCL"), (hanoi, "P01")):
        assert view["unit"] == code and set(view["phases"]) == {"1", "2"}
        for phase, page in view["phases"].items():
            rows = page["rows"]
            assert len(rows) == min(20, page["total"]) and {r["unit_code"] for r in rows} <= _on_screen(client, code)
            assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows) and {r["phase"] for r in rows} <= {
                int(phase)}
            assert {r["kind"] for r in rows} <= {"sources", "pushed"}  # where figures disagree, not the targets
    rows = national["phases"]["2"]["rows"]
    assert rows and rows[0]["explanation"] and rows[0]["cause_label"] and rows[0]["crosses"]
    crossing = [r["crosses"] for r in rows]
    assert crossing == sorted(crossing, reverse=True)  # what carries a unit over its target comes first
    assert len(client.get("/api/v1/dashboard").content) < 150_000  # was 878 KB with every title inlined


def test_the_worklist_pages_and_filters(client):
    whole = client.get("/api/v1/worklist?unit=VGCL&phase=2&limit=200").json()
    pages = [client.get(f"/api/v1/worklist?unit=VGCL&phase=2&limit=7&offset={k}").json() for k in (0, 7, 14)]
    assert [r["rank"] for p in pages for r in p["rows"]] == [r["rank"] for r in whole["rows"]][:21]
    portal = client.get("/api/v1/worklist?phase=2&source=portal&cause=not_on_portal&limit=50&lang=en").json()
    assert portal["total"] > 0 and {(r["source"], r["cause"]) for r in portal["rows"]} == {("portal", "not_on_portal")}
    assert all("not yet on the portal" in r["explanation"] for r in portal["rows"])
    assert client.get("/api/v1/worklist?unit=NOWHERE").status_code == 404
    assert client.get("/api/v1/worklist?limit=100000").status_code == 422


def _biggest_row(client: TestClient) -> dict[str, Any]:
    rows = client.get("/api/v1/worklist?unit=VGCL&phase=2&limit=200").json()["rows"]
    return max(rows, key=lambda r: r["items"])


def test_the_initiatives_behind_a_row_come_a_page_at_a_time(client, engine):
    row = _biggest_row(client)
    query = f"unit={row['unit_code']}&phase=2&kind={row['kind']}&cause={row['cause']}&source={row['source']}"
    first = client.get(f"/api/v1/worklist/initiatives?{query}&limit=10").json()
    assert first["total"] == row["items"] > 10 and len(first["rows"]) == 10
    every = []
    for offset in range(0, first["total"], 10):
        every += client.get(f"/api/v1/worklist/initiatives?{query}&limit=10&offset={offset}").json()["rows"]
    ids = [r["initiative_id"] for r in every]
    assert len(ids) == len(set(ids)) == row["items"]  # pages do not overlap and leave nothing out
    one = every[0]
    assert one["title"] and one["held_by"] and all(h["source"] != row["source"] for h in one["held_by"])
    pending, offset = [], 0
    while True:  # a filtered list is not counted: it pages on while there is more
        page = client.get(f"/api/v1/worklist/initiatives?{query}&status=pending&limit=10&offset={offset}").json()
        pending += page["rows"]
        assert page["total"] is None
        if not page["more"]:
            break
        offset += 10
    assert [r["initiative_id"] for r in pending] == [r["initiative_id"] for r in every if r["status"] == "pending"]
    words = fold(" ".join(one["title"].split()[1:4])).upper()  # searched without diacritics, in any case
    found = client.get(f"/api/v1/worklist/initiatives?{query}&q={words}&limit=200").json()
    assert one["initiative_id"] in {r["initiative_id"] for r in found["rows"]}
    in_unit = client.get(f"/api/v1/worklist/initiatives?{query}&in_unit={one['unit_code']}&limit=200").json()
    assert {r["unit_code"] for r in in_unit["rows"]} == {one["unit_code"]}


def test_the_reconciliation_of_a_store_without_an_org_tree_is_empty_not_an_error(tmp_path):
    engine = store.open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    reply = TestClient(create_app(engine, public_reads=True)).get("/api/v1/reconciliation")
    assert reply.status_code == 200 and reply.json()["rows"] == [] and reply.json()["total"] == 0


def test_the_reconciliation_answers_from_the_kept_worklist(engine):
    client = TestClient(create_app(engine, public_reads=True))
    reply = client.get("/api/v1/reconciliation?unit=P01&limit=5")
    body = reply.json()
    assert reply.status_code == 200 and body["total"] >= len(body["rows"]) > 0
    with engine.connect() as conn:
        within = set(conn.scalars(sa.select(store.unit_closure.c.unit_code)
                                  .where(store.unit_closure.c.ancestor == "P01")))
    assert {r["unit_code"] for r in body["rows"]} <= within
    assert client.get("/api/v1/reconciliation?unit=NOWHERE").status_code == 404


def test_the_figures_follow_a_new_sync_on_sqlite_and_postgresql(db_url, world):
    """A Hà Nội bank branch counts for Hà Nội and for Banking, once nationally; a new roll-up shows at once."""
    engine = store.open_store(db_url)
    load_orgs(engine, world.root / "orgs.csv")
    load_quotas(engine, world.root / "quotas.csv")
    world.source("hanoi", BANK_ROW)
    add_connector(engine, "hanoi", "files", read_config_file(world.config("hanoi")))
    run_sync(engine)
    client = TestClient(_app(engine))

    def valid(view: dict[str, Any]) -> dict[str, int]:
        units = [view["unit"], *view["children"]]
        return {u["code"]: next(f["counted"] for f in u["phases"] if f["phase"] == 1) for u in units}

    assert valid(client.get("/api/v1/dashboard").json()) == {"VGCL": 1, "P01": 1, "NGANHANG": 1, "P34": 0}
    assert client.get("/api/v1/dashboard").json()["unit"]["phases"][0]["completion"] == 0.1  # 1 of 10
    world.source("hanoi", BANK_ROW, SECOND_BANK_ROW)
    run_sync(engine)
    assert valid(client.get("/api/v1/dashboard").json()) == {"VGCL": 2, "P01": 2, "NGANHANG": 2, "P34": 0}
    assert valid(client.get("/api/v1/dashboard/units/NGANHANG").json()) == {"NGANHANG": 2, "G001": 2}


# --- the page in Chromium -----------------------------------------------------------------

def _no_browser(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (in CI a missing browser is a failure: .ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _no_browser(f"{CHROMIUM} not found; install it with: apt-get install -y chromium chromium-driver")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("playwright is not installed; `python3 dev.py setup` installs the locked version")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


class PageWatch:
    """A page with every console error, page error and request it made recorded."""

    def __init__(self, browser: Any, base_url: str, **context: Any):
        self.context = browser.new_context(**context)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        loopback = urlsplit(base_url).netloc
        # nothing may leave the loopback server: anything else is recorded above and refused here
        self.context.route(re.compile(r".*"), lambda route: route.continue_()
                           if urlsplit(route.request.url).netloc == loopback or route.request.url.startswith("data:")
                           else route.abort())

    def open(self, url: str) -> Any:
        self.page.goto(url)
        self.page.wait_for_selector("main[data-state=ready]", timeout=20_000)
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watch(browser: Any, server: LoopbackServer) -> Iterator[PageWatch]:
    w = PageWatch(browser, server.url, viewport={"width": 1280, "height": 900})
    yield w
    w.close()


def _shot(page: Any, name: str, full_page: bool = True) -> Path:
    """A screenshot of ``page`` (or of one element: a Locator) in test-artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    if hasattr(page, "goto"):
        page.screenshot(path=str(path), full_page=full_page)
    else:
        page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path


def _digits(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def test_the_page_loads_with_no_console_error_and_no_request_beyond_loopback(watch, server):
    page = watch.open(server.url)
    shot = _shot(page, "dashboard.png")
    loopback = urlsplit(server.url).netloc
    assert watch.errors == []
    assert watch.requests and all(urlsplit(u).netloc == loopback for u in watch.requests if not u.startswith("data:"))
    assert page.locator("#units tbody tr").count() == 20  # the first twenty, then "show all (83)"
    assert "83" in page.locator("#units-more button").inner_text()
    assert shot.stat().st_size > 10_000


def test_the_national_figure_shown_is_the_apis_and_the_reports(watch, server, client, engine):
    page = watch.open(server.url)
    national = client.get("/api/v1/dashboard").json()["unit"]
    with engine.connect() as conn:
        report = {r["phase"]: r["valid"] for r in report_rows(conn, unit="VGCL")[1]}
    for figures in national["phases"]:
        shown = page.locator(f"#national .card[data-phase='{figures['phase']}'] .counted")
        assert int(shown.get_attribute("data-value")) == figures["counted"] == report[figures["phase"]]
        assert _digits(shown.inner_text()) == figures["counted"]  # what a person reads, not only the attribute


def test_clicking_a_unit_shows_its_children_and_the_crumb_leads_back(watch, server, client):
    page = watch.open(server.url)
    page.locator("#units button.drill[data-code='P01']").click()
    page.wait_for_selector("#crumbs .here:text('Hà Nội')")
    page.wait_for_selector("main[data-state=ready]")
    ranked = [u["code"] for u in client.get("/api/v1/dashboard/units/P01").json()["children"]]
    shown = page.locator("#units tbody tr").evaluate_all("rows => rows.map(r => r.dataset.code)")
    assert shown == ranked[:20]  # ranked as the API ranks them, the first twenty
    assert page.evaluate("location.hash") == "#unit=P01"
    district = next(iter(sorted(c for c in shown if c.startswith("P01-D"))), None)
    if district:
        page.locator(f"#units button.drill[data-code='{district}']").click()
        page.wait_for_selector("#crumbs a[href='#unit=P01']")
    page.locator("#crumbs a").first.click()
    expect(page.locator("#units tbody tr")).to_have_count(20)  # polls without eval: the page's CSP forbids it
    assert watch.errors == []


def test_names_from_the_data_are_shown_as_text_never_as_markup(watch, server, engine):
    """A unit whose name is markup, and a source named so, in a worklist row: shown as text, run never."""
    source = '<img src=x onerror="window.injected=3">'
    with engine.begin() as conn:  # the kept worklist as a roll-up would have left it, with one row more
        conn.execute(store.worklist.insert().values(
            rank=-1, kind="sources", cause="not_in_source", unit_code="XSS1", phase=2, source=source, items=0,
            expected=1, actual=0, basis=None, target=None, standing=0, effect=0, crosses=False,
            params='{"n": 1, "holders": ["<script>window.injected=2</script>"], "holders_more": 0}'))
    try:
        page = watch.open(server.url + "#unit=P01-D01")
        row = page.locator("#worklist li.row[data-unit='XSS1']")
        expect(row).to_have_count(1)
        assert MARKUP_NAME in row.inner_text() and "<script>window.injected=2</script>" in row.inner_text()
        assert source in row.inner_text()
        if page.locator("#units tr[data-code='XSS1']").count():
            assert page.locator("#units tr[data-code='XSS1'] td.name").inner_text().startswith(MARKUP_NAME)
        assert page.evaluate("window.injected === undefined") and page.locator("main img").count() == 0
        _shot(page, "dashboard-drilldown.png")
    finally:
        with engine.begin() as conn:
            conn.execute(store.worklist.delete().where(store.worklist.c.rank == -1))


def _height(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollHeight"))


def test_the_national_page_stays_under_6000_px_on_a_wide_screen_and_on_a_phone(browser, server):
    for name, context in (("1366", {"viewport": {"width": 1366, "height": 900}}),
                          ("390", {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True})):
        w = PageWatch(browser, server.url, **context)
        try:
            page = w.open(server.url)
            expect(page.locator("#worklist li.row")).to_have_count(20)  # the worklist's top twenty is on it
            height = _height(page)
            print(f"national page, {name} px wide: {height} px tall")
            _shot(page, f"dashboard-national-{name}.png")  # the whole page, as tall as it is
            assert height < MAX_HEIGHT, (name, height)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            assert w.errors == []
        finally:
            w.close()


def _worklist_units(page: Any) -> list[str]:
    return page.locator("#worklist li.row").evaluate_all("rows => rows.map(r => r.dataset.unit)")


def test_the_worklist_on_the_page_follows_a_drill_down(watch, server, client):
    page = watch.open(server.url)
    assert set(_worklist_units(page)) <= _on_screen(client, "VGCL")
    assert "Tổng Liên đoàn Lao động Việt Nam" in page.locator("#worklist-unit").inner_text()
    page.locator("#units button.drill[data-code='P01']").click()
    page.wait_for_selector("#crumbs .here:text('Hà Nội')")
    page.wait_for_selector("main[data-state=ready]")
    expected = client.get("/api/v1/dashboard/units/P01").json()["worklist"]["phases"]["2"]["rows"]
    assert _worklist_units(page) == [r["unit_code"] for r in expected] and expected
    assert set(_worklist_units(page)) <= _on_screen(client, "P01")
    assert "Hà Nội" in page.locator("#worklist-unit").inner_text()
    page.locator("#phase-tabs button[data-phase='1']").click()  # the phase tab filters the worklist too
    phase1 = client.get("/api/v1/dashboard/units/P01").json()["worklist"]["phases"]["1"]["rows"]
    assert _worklist_units(page) == [r["unit_code"] for r in phase1]
    assert watch.errors == []


def test_opening_a_discrepancy_shows_its_initiatives_a_page_at_a_time(watch, server, client):
    page = watch.open(server.url)
    row = page.locator("#worklist li.row").filter(has=page.locator("button.open")).evaluate_all(
        f"rows => rows.filter(r => +r.dataset.items > {ITEMS_PER_PAGE}).map(r => r.dataset.rank)")
    assert row, "the national worklist has a row with more initiatives than a page holds"
    item = page.locator(f"#worklist li.row[data-rank='{row[0]}']")
    total = int(item.get_attribute("data-items"))
    item.locator("button.open").click()
    page.wait_for_selector("#items[data-state=ready]")
    listed = page.locator("#items-table tbody tr")
    expect(listed).to_have_count(ITEMS_PER_PAGE)
    pages = -(-total // ITEMS_PER_PAGE)
    assert page.locator("#items-page").inner_text() == f"Trang 1/{pages} ({total} sáng kiến)"
    first_ids = listed.evaluate_all("rows => rows.map(r => r.cells[0].textContent)")
    page.locator("#items-next").click()
    expect(page.locator("#items-page")).to_have_text(f"Trang 2/{pages} ({total} sáng kiến)")
    second_ids = page.locator("#items-table tbody tr").evaluate_all("rows => rows.map(r => r.cells[0].textContent)")
    assert not set(first_ids) & set(second_ids)
    page.locator("#items-filter select[name=status]").select_option("pending")
    page.locator("#items-filter button[type=submit]").click()
    expect(page.locator("#items-page")).not_to_have_text(f"Trang 2/{pages} ({total} sáng kiến)")
    statuses = page.locator("#items-table tbody tr").evaluate_all("rows => rows.map(r => r.cells[3].textContent)")
    assert set(statuses) <= {"Chờ duyệt"}
    _shot(page.locator("#items"), "dashboard-initiatives.png", full_page=False)
    assert watch.errors == []


def test_the_vietnamese_page_carries_no_identifier_and_no_english(watch, server, engine):
    """Scanned with a worklist row open and a source that failed with the source's own (English) message."""
    with engine.begin() as conn:
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        run = conn.execute(store.sync_runs.insert().values(started_at=later, status="failed")).inserted_primary_key[0]
        conn.execute(store.sync_run_sources.insert().values(run_id=run, source="hanoi", error_type="transient",
                                                            error="connection refused by hanoi.example"))
    try:
        page = watch.open(server.url)
        page.locator("#worklist li.row button.open").first.click()
        page.wait_for_selector("#items[data-state=ready]")
        shown = page.locator("body").inner_text()
        failed = page.locator("#sources td.status-failed")
        assert failed.inner_text() == "Lỗi: lỗi tạm thời: lần sau sẽ thử lại"
        assert failed.get_attribute("title") == "connection refused by hanoi.example"  # on hover, as it came
    finally:
        with engine.begin() as conn:
            conn.execute(store.sync_runs.delete().where(store.sync_runs.c.id == run))
    with engine.connect() as conn:
        data = set(conn.scalars(sa.select(store.connectors.c.name))) | set(
            conn.scalars(sa.select(store.org_units.c.code))) | set(
            conn.scalars(sa.select(store.raw_records.c.source_record_id)))
    assert untranslated(shown.splitlines(), data) == []
    assert "(UTC+7)" in page.locator("#as-of").inner_text()  # a time, in Vietnam time with its zone


def test_english_labels_on_request(watch, server):
    page = watch.open(server.url + "?lang=en")
    assert page.locator("#h-national").inner_text() == "National progress"
    assert page.locator("html").get_attribute("lang") == "en"


def test_the_page_fits_a_phone_screen(browser, server):
    w = PageWatch(browser, server.url, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                  device_scale_factor=2)
    try:
        page = w.open(server.url)
        # the page itself does not scroll sideways (wide tables scroll inside their own box)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert page.locator("#units th.kind").is_hidden()
        _shot(page, "dashboard-phone.png", full_page=False)  # the first screen a phone shows
        assert w.errors == []
    finally:
        w.close()


# --- the full national tree ---------------------------------------------------------------

@pytest.fixture(scope="module")
def national_tree(tmp_path_factory: pytest.TempPathFactory) -> sa.Engine:
    return national_tree_store(tmp_path_factory.mktemp("national"))


def national_tree_store(root: Path) -> sa.Engine:
    """The generator's full tree (~25,000 grassroots units) with counts and targets on every unit."""
    from sandbox.generate.constants import REFERENCE_DIR
    from sandbox.generate.orgs import _Draw, _OrgBuilder  # the tree only, no initiatives

    provinces = pd.read_csv(REFERENCE_DIR / "provinces_2022.csv", dtype=str, keep_default_na=False)
    sectors = pd.read_csv(REFERENCE_DIR / "sector_unions.csv", dtype=str, keep_default_na=False)
    tree = _OrgBuilder(_Draw(np.random.default_rng([0, 1])), provinces, sectors).build(25_000)
    tree.orgs.to_csv(root / "orgs.csv", index=False)
    engine = store.open_store(f"sqlite:///{root / 'store.db'}")
    load_orgs(engine, root / "orgs.csv")
    rng = np.random.default_rng(5)
    codes = tree.orgs["code"].tolist()
    parents = dict(zip(tree.orgs["code"], tree.orgs["parent_code"], strict=True))  # who assigned each target
    now = dt.datetime(2023, 9, 2, 19, 30, tzinfo=dt.UTC)
    counts = [{"unit_code": code, "phase": phase, "records": int(v * 1.6), "initiatives": int(v * 1.2), "valid": int(v),
               "pending": int(v * 0.1), "rejected": int(v * 0.1), "ineligible": 0, "registrants": int(v * 1.4),
               "benefit_vnd": 0.0, "run_id": 30, "as_of": now}
              for code in codes for phase, v in ((1, rng.integers(0, 400)), (2, rng.integers(0, 900)))]
    with engine.begin() as conn:
        conn.execute(store.unit_counts.insert(), counts)
        targets = ((1, 50, 500), (2, 100, 1000))
        conn.execute(store.quotas.insert(), [
            {"unit_code": code, "phase": phase, "target": int(rng.integers(low, high)), "basis": "valid",
             "assigned_by": parents.get(code) or code}
            for code in tree.quota_units for phase, low, high in targets])
        conn.execute(store.count_history.insert(), [
            {"run_id": night, "as_of": now - dt.timedelta(days=30 - night), "unit_code": "VGCL", "phase": phase,
             "records": 0, "initiatives": 0, "valid": 20_000 * night * phase, "pending": 0, "rejected": 0,
             "ineligible": 0, "registrants": 0, "benefit_vnd": 0.0} for night in range(1, 31) for phase in (1, 2)])
    return engine


def test_the_page_renders_and_drills_down_on_the_full_national_tree(browser, national_tree):
    """~25,000 units: the page and a drill-down into a sector union with hundreds of units below it render
    (a screenshot and the times are printed; bench/dashboard.py measures the answers)."""
    with LoopbackServer(_app(national_tree)) as running:
        w = PageWatch(browser, running.url, viewport={"width": 1280, "height": 900})
        try:
            page = w.open(running.url)
            first = int(page.locator("main").get_attribute("data-render-ms"))
            page = w.open(running.url)  # once more: the first load also worked out the kept summary
            again = int(page.locator("main").get_attribute("data-render-ms"))
            page.locator("#units-more button").click()  # all 83, then the Banking union
            started = time.perf_counter()
            page.locator("#units button.drill[data-code='NGANHANG']").click()
            page.wait_for_selector("#crumbs .here:text('Ngân hàng')")
            page.wait_for_selector("main[data-state=ready]")
            drill = time.perf_counter() - started
            print(f"full national tree: page rendered in {first} ms (first load), {again} ms (again); "
                  f"drill-down into NGANHANG in {drill * 1000:.0f} ms")
            _shot(page, "dashboard-national-tree.png")
            assert page.locator("#units tbody tr").count() == 20 and page.locator("#units-more button").count() == 1
            assert w.errors == []
        finally:
            w.close()
