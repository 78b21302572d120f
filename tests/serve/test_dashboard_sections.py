"""The page's sections for issue 20 in Chromium: "Các chỉ tiêu của …" (every target of the unit on screen, who
set it, the members' share), "Xếp hạng cụm, khối thi đua" (the cluster ranks), and the program switch (another
program's figures on the same page). Same browser set-up as tests/serve/test_dashboard.py (Debian's chromium
through Playwright; skipped without it, failed under CI); screenshots in test-artifacts/."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from sangkien import store
from sangkien.cli.main import main
from sangkien.reference.clusters import load_clusters
from sangkien.reference.members import load_members
from tests.pipeline.test_clusters import CLUSTERS
from tests.pipeline.test_targets import MEMBERS, authors_under, sync, valid_under
from tests.present.words import untranslated
from tests.serve.test_dashboard import LoopbackServer, PageWatch, _app, _shot, browser, expect  # noqa: F401
from tests.serve.test_dashboard_targets import QUOTAS

ROUNDS = "phase,name,starts_on,ends_on,counts_from\n1,Đợt 1,2022-01-01,2022-06-30,2021-09-01\n" \
         "2,Đợt 2,2022-07-01,2022-12-31,2021-09-01\n"


@pytest.fixture
def sections(engine, world, db_url, tmp_path, capsys) -> Iterator[LoopbackServer]:  # type: ignore[no-untyped-def]
    """Hà Nội's two targets, Thái Bình health's share of members, one cluster, and a second program."""
    sync(engine, world, QUOTAS)
    (tmp_path / "members.csv").write_text(MEMBERS, encoding="utf-8")
    load_members(engine, tmp_path / "members.csv")
    (tmp_path / "clusters.csv").write_text(CLUSTERS, encoding="utf-8")
    load_clusters(engine, tmp_path / "clusters.csv")
    assert main(["--db", db_url, "programs", "add", "VC-2022", "--name", "Thi đua 2022, CĐ Viên chức",
                 "--starts-on", "2021-09-01", "--ends-on", "2022-12-31"]) == 0
    (tmp_path / "rounds.csv").write_text(ROUNDS, encoding="utf-8")
    assert main(["--db", db_url, "phases", "load", str(tmp_path / "rounds.csv"), "--program", "VC-2022"]) == 0
    (tmp_path / "vc.csv").write_text("unit_code,phase,target\nP01,1,1\nP34,1,2\nNGANHANG,1,3\n", encoding="utf-8")
    assert main(["--db", db_url, "quotas", "load", str(tmp_path / "vc.csv"), "--program", "VC-2022"]) == 0
    capsys.readouterr()
    with LoopbackServer(_app(engine)) as running:
        yield running


@pytest.fixture
def watch(browser: Any, sections: LoopbackServer) -> Iterator[PageWatch]:  # noqa: F811
    w = PageWatch(browser, sections.url, viewport={"width": 1280, "height": 900})
    yield w
    w.close()


def _phase_one(page: Any) -> None:
    page.locator("#phase-tabs button[data-phase='1']").click()


def _cells(page: Any, selector: str) -> list[list[str]]:
    return page.locator(f"{selector} tbody tr").evaluate_all(
        "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))")


def test_the_targets_section_lists_who_set_each_target_and_the_members_share(watch, sections, db_url):
    page = watch.open(sections.url + "#unit=P01")
    _phase_one(page)
    box = page.locator("#targets-box")
    expect(box).to_be_visible()
    assert box.locator("h2").inner_text() == "Các chỉ tiêu của LĐLĐ thành phố Hà Nội"
    rows = _cells(page, "#targets")
    hanoi = valid_under("P01")
    assert [r[0] for r in rows] == ["Tổng Liên đoàn Lao động Việt Nam", "Tự đặt"]
    assert [(r[2], r[3]) for r in rows] == [("4", str(hanoi)), ("6", str(hanoi))]
    page.evaluate("location.hash = '#unit=P34-YTE'")
    page.wait_for_selector("#crumbs .here:text('Công đoàn ngành Y tế Thái Bình')")
    _phase_one(page)
    by_basis = {r[1]: r for r in _cells(page, "#targets")}
    share = round(100 * authors_under("P34-YTE") / 20, 2)
    member_row = by_basis["tỷ lệ đoàn viên"]
    assert member_row[0] == "Tự đặt" and member_row[2] == "10 %"
    assert member_row[3] == f"{share:g}".replace(".", ",") + " %"  # Vietnamese decimal comma
    _shot(page.locator("#targets-box"), f"dashboard-targets-{'pg' if 'postgres' in db_url else 'sqlite'}.png")
    assert watch.errors == []


def test_the_cluster_section_ranks_the_units_of_the_cluster_and_the_page_stays_vietnamese(watch, sections, engine):
    page = watch.open(sections.url)
    _phase_one(page)
    box = page.locator("#clusters-box")
    expect(box).to_be_visible()
    assert box.locator("h2").inner_text().startswith("Xếp hạng cụm, khối thi đua")
    assert box.locator("h3").inner_text() == "Cụm thi đua số 1"
    rows = _cells(page, "#clusters")
    completion = {"LĐLĐ thành phố Hà Nội": valid_under("P01") / 4, "LĐLĐ tỉnh Thái Bình": valid_under("P34-YTE") / 3,
                  "Công đoàn Ngân hàng Việt Nam": valid_under("NGANHANG") / 1}
    assert [r[1] for r in rows] == sorted(completion, key=lambda name: -completion[name])
    assert rows[0][0] == "1/3"
    _shot(page, "dashboard-sections.png")
    with engine.connect() as conn:
        data = set(conn.scalars(sa.select(store.org_units.c.code))) | set(
            conn.scalars(sa.select(store.connectors.c.name))) | {"VC-2022"}
    assert untranslated(page.locator("body").inner_text().splitlines(), data) == []
    assert watch.errors == []


def test_the_program_switch_shows_another_programs_figures_on_the_same_page(watch, sections, engine):
    page = watch.open(sections.url)
    links = page.locator("#programs a")
    assert links.evaluate_all("as => as.map(a => a.dataset.program)") == ["1trieu", "VC-2022"]
    assert page.locator("#programs a[aria-current=page]").get_attribute("data-program") == "1trieu"
    page.locator("#programs a[data-program='VC-2022']").click()
    page.wait_for_selector("main[data-state=ready]")
    assert "program=VC-2022" in page.url
    assert page.locator("#programs a[aria-current=page]").get_attribute("data-program") == "VC-2022"
    expect(page.locator("#program-note")).to_be_visible()
    assert page.locator("#phase-tabs button").all_inner_texts() == ["Đợt 1", "Đợt 2"]
    _phase_one(page)
    shown = {r[1].splitlines()[0]: r[3] for r in _cells(page, "#units")}
    assert shown["LĐLĐ thành phố Hà Nội"].replace(".", "") == str(valid_under("P01"))  # every record is in round 1
    assert page.locator("#worklist").inner_text() == "Danh sách nguồn chưa khớp chỉ có cho chương trình mặc định."
    _shot(page, "dashboard-program.png")
    assert watch.errors == []
    page.locator("a.lang").click()  # the English page keeps the program
    page.wait_for_selector("main[data-state=ready]")
    assert "program=VC-2022" in page.url and page.locator("#programs a[aria-current=page]").get_attribute(
        "data-program") == "VC-2022"


def test_a_store_with_one_program_shows_no_switch(browser, engine, world):  # noqa: F811
    from tests.conftest import QUOTAS_CSV

    sync(engine, world, QUOTAS_CSV)
    with LoopbackServer(_app(engine)) as running:
        w = PageWatch(browser, running.url, viewport={"width": 1280, "height": 900})
        try:
            page = w.open(running.url)
            expect(page.locator("#programs")).to_be_hidden()
            expect(page.locator("#targets-box")).to_be_hidden()
            expect(page.locator("#clusters-box")).to_be_hidden()
        finally:
            w.close()
