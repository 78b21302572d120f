"""The simulated portal and REST systems: real HTTP on loopback, serving a generated world, with faults."""
from __future__ import annotations

import base64
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests

from connectors.tabular import read_table
from sandbox.generate import generate_world
from sandbox.servers import serve
from sandbox.servers.cli import main
from sandbox.servers.faults import FaultSpec
from sandbox.servers.running import RunningServer

TOKEN = "demo-token"
PORTAL_AUTH = {"Authorization": f"Bearer {TOKEN}"}
REST_AUTH = {"X-API-Key": TOKEN}
ALL_FAULTS_20 = "5xx=0.04,429=0.04,slow=0.02,truncated=0.03,drop=0.03,shift=0.02,update=0.02"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    generate_world(out, 300, seed=7)
    return out


@pytest.fixture(scope="module")
def truth(world: Path) -> pd.DataFrame:
    return pd.read_csv(world / "truth.csv", dtype=str, keep_default_na=False)


def _truth_ids(truth: pd.DataFrame, source: str) -> set[str]:
    return set(truth.loc[truth["source"] == source, "source_record_id"])


@pytest.fixture
def portal(world: Path) -> Iterator[RunningServer]:
    with serve("portal", world) as server:
        yield server


# --------------------------------------------------------------------------- clients written for the tests


class Client:
    """GET JSON; strict (any failure raises) or retrying (5xx, 429, timeouts, broken connections, bad JSON)."""

    TRANSIENT = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)

    def __init__(self, headers: dict[str, str], retrying: bool = False, timeout: float = 5.0) -> None:
        self.session = requests.Session()
        self.session.headers.update(headers)
        self.retrying, self.timeout = retrying, timeout
        self.attempts = 0

    def get(self, url: str, params: dict[str, Any] | None = None) -> tuple[Any, requests.Response]:
        for _ in range(50 if self.retrying else 1):
            self.attempts += 1
            try:
                response = self.session.get(url, params=params, timeout=self.timeout)
            except self.TRANSIENT:
                if self.retrying:
                    continue
                raise
            if self.retrying and (response.status_code >= 500 or response.status_code == 429):
                time.sleep(float(response.headers.get("Retry-After", "0")))
                continue
            response.raise_for_status()
            try:
                return response.json(), response
            except ValueError:
                if self.retrying:
                    continue
                raise
        raise AssertionError("gave up after 50 attempts")


def collect_portal(client: Client, server: RunningServer, limit: int = 50,
                   since: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"limit": limit} | ({"updated_since": since} if since else {})
    records: list[dict[str, Any]] = []
    while True:
        body, _ = client.get(server.endpoint, params)
        records += body["data"]
        if body["next_cursor"] is None:
            return records
        params["cursor"] = body["next_cursor"]


def collect_rest(client: Client, server: RunningServer, style: str, size: int,
                 since: str | None = None) -> list[dict[str, Any]]:
    base: dict[str, Any] = {"modified_after": since} if since else {}
    return _WALKERS[style](client, server.endpoint, size, base)


def _walk_page(client: Client, url: str, size: int, base: dict[str, Any]) -> list[dict[str, Any]]:
    records, page = [], 1
    while True:
        body, _ = client.get(url, base | {"page": page, "page_size": size})
        records += body["items"]
        if page >= body["total_pages"]:
            return records
        page += 1


def _walk_offset(client: Client, url: str, size: int, base: dict[str, Any]) -> list[dict[str, Any]]:
    records, offset = [], 0
    while True:
        body, _ = client.get(url, base | {"offset": offset, "limit": size})
        records += body["results"]
        offset += size  # by what was asked, not by what came back
        if offset >= body["total"]:
            return records


def _walk_cursor(client: Client, url: str, size: int, base: dict[str, Any]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    params = base | {"limit": size}
    while True:
        body, _ = client.get(url, params)
        records += body["data"]["records"]
        if body["next"] is None:
            return records
        params["cursor"] = body["next"]


def _walk_link(client: Client, url: str, size: int, base: dict[str, Any]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    next_url: str | None = url
    params: dict[str, Any] | None = base | {"page_size": size}
    while next_url:
        body, response = client.get(next_url, params)
        records += body
        next_url, params = response.links.get("next", {}).get("url"), None
    return records


_WALKERS: dict[str, Callable[[Client, str, int, dict[str, Any]], list[dict[str, Any]]]] = {
    "page": _walk_page, "offset": _walk_offset, "cursor": _walk_cursor, "link": _walk_link,
}


def _ids(records: list[dict[str, Any]], key: str = "id") -> list[str]:
    return [r[key] for r in records]


# --------------------------------------------------------------------------- fault specs


def test_fault_spec_parses_rates_and_settings() -> None:
    spec = FaultSpec.parse("5xx=0.05, 429=0.05,slow=0.02,truncated=0.03,drop=0.02,shift=0.02,update=0.01,"
                           "retry_after=2,slow_delay=0.5,seed=9")
    assert spec.rates() == {"5xx": 0.05, "429": 0.05, "slow": 0.02, "truncated": 0.03, "drop": 0.02,
                            "shift": 0.02, "update": 0.01}
    assert (spec.retry_after, spec.slow_delay, spec.seed) == (2, 0.5, 9)
    assert FaultSpec.parse(str(spec)) == spec
    assert FaultSpec.parse("") == FaultSpec.parse("none") == FaultSpec()


@pytest.mark.parametrize("text, named", [
    ("5xx=0.05,bogus=0.1", "bogus"), ("slow", "slow"), ("drop=2", "drop=2"), ("429=abc", "429=abc"),
    ("retry_after=0.5", "retry_after=0.5"), ("shift=0.1,shift=0.2", "shift=0.2"), ("5xx=0.6,429=0.6", "add up"),
])
def test_fault_spec_rejects_a_bad_item_in_one_line_naming_it(text: str, named: str) -> None:
    with pytest.raises(ValueError) as caught:
        FaultSpec.parse(text)
    assert named in str(caught.value) and "\n" not in str(caught.value)


def test_serve_rejects_unknown_kind_style_and_source(world: Path) -> None:
    for kwargs, named in [({"kind": "ftp"}, "ftp"), ({"kind": "rest", "style": "scroll"}, "scroll"),
                          ({"kind": "rest", "source": "atlantis"}, "atlantis")]:
        with pytest.raises(ValueError, match=named):
            serve(world=world, **kwargs)


# --------------------------------------------------------------------------- the portal


def test_portal_answers_401_to_a_missing_or_wrong_token(portal: RunningServer) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {TOKEN}"}):
        response = requests.get(portal.endpoint, headers=headers, timeout=5)
        assert response.status_code == 401 and response.json() == {"error": "invalid token"}
    assert requests.get(portal.endpoint, headers=PORTAL_AUTH, timeout=5).status_code == 200


def test_portal_answers_404_to_an_unknown_path_and_html_at_the_root(portal: RunningServer) -> None:
    response = requests.get(portal.url + "/api/v2/initiatives", headers=PORTAL_AUTH, timeout=5)
    assert response.status_code == 404 and "not found" in response.json()["error"]
    root = requests.get(portal.url + "/", timeout=5)
    assert root.status_code == 200 and root.headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("params, named", [
    ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"limit": "ten"}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"), ({"updated_since": "yesterday"}, "updated_since"),
    ({"page": "2"}, "page"),
])
def test_portal_answers_400_naming_a_bad_parameter(portal: RunningServer, params: dict[str, str],
                                                   named: str) -> None:
    response = requests.get(portal.endpoint, headers=PORTAL_AUTH, params=params, timeout=5)
    assert response.status_code == 400 and f"bad parameter {named}" in response.json()["error"]


def test_portal_paging_returns_exactly_the_world_portal_records_in_order(portal: RunningServer,
                                                                          truth: pd.DataFrame) -> None:
    records = collect_portal(Client(PORTAL_AUTH), portal, limit=37)
    ids = _ids(records)
    assert len(ids) == len(set(ids)) == len(portal.system)
    assert {portal.system.truth_id(i) for i in ids} == portal.system.truth_ids() == _truth_ids(truth, "portal")
    keys = [(r["updated_at"], r["id"]) for r in records]
    assert keys == sorted(keys)


def test_portal_records_carry_the_export_content_with_typed_fields(portal: RunningServer, world: Path) -> None:
    records = {r["id"]: r for r in collect_portal(Client(PORTAL_AUTH), portal, limit=500)}
    export = pd.concat([read_table(p, encoding="utf-8", delimiter=",", date_format="%Y-%m-%d").frame
                        for p in sorted((world / "sources" / "portal").glob("*.csv"))])
    row = export.iloc[5]
    record = records[row["Mã sáng kiến"]]
    assert record["title"] == row["Tên sáng kiến"] and record["workplace"] == row["Đơn vị công tác"]
    assert record["authors"] == [a.strip() for a in row["Tác giả"].split(";")]
    assert record["applied_on"] == row["Ngày áp dụng"] and record["updated_at"] == row["Cập nhật lúc"] + "Z"
    for r in records.values():
        assert re.fullmatch(r"SK\d{7}", r["id"]) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["updated_at"])
        assert r["benefit_vnd"] is None or isinstance(r["benefit_vnd"], int)
        assert r["status"] in ("Hợp lệ", "Chờ duyệt", "Không hợp lệ")


def test_portal_incremental_after_changing_1_percent_returns_only_those_and_the_boundary(
        portal: RunningServer) -> None:
    client = Client(PORTAL_AUTH)
    first = collect_portal(client, portal, limit=100)
    watermark = max(r["updated_at"] for r in first)
    changed = portal.system.change_records(0.01, seed=3)
    assert len(changed) == round(0.01 * len(portal.system))
    before = client.attempts
    again = collect_portal(client, portal, limit=100, since=watermark)
    assert client.attempts - before == 1
    boundary = {r["id"] for r in again if r["updated_at"] == watermark}
    assert {r["id"] for r in again} - boundary == set(changed)
    assert all(r["updated_at"] > watermark for r in again if r["id"] in changed)


def test_change_records_edits_content_and_makes_the_changed_records_newest(portal: RunningServer) -> None:
    system = portal.system
    before = {r["id"]: r for r in system.records()}
    changed = system.change_records(0.05, seed=1)
    order = _ids(system.records())
    assert order[-len(changed):] == changed
    for record_id in changed:
        old, new = before[record_id], system.record(record_id)
        assert (old["status"], old["title"]) != (new["status"], new["title"])
        assert new["updated_at"] > max(r["updated_at"] for r in before.values())
        if old["status"] == "Chờ duyệt":
            assert new["status"] == "Hợp lệ"


def test_request_counters_count_every_request_per_path(portal: RunningServer) -> None:
    collect_portal(Client(PORTAL_AUTH), portal, limit=100)
    requests.get(portal.url + "/nowhere", timeout=5)
    pages = -(-len(portal.system) // 100)
    assert portal.system.requests == pages + 1
    assert portal.system.path_counts == {"/api/v1/initiatives": pages, "/nowhere": 1}
    assert portal.system.records_served == len(portal.system)


# --------------------------------------------------------------------------- the REST simulator


@pytest.mark.parametrize("style", ["page", "offset", "cursor", "link"])
def test_rest_style_pages_through_every_record_of_the_source(world: Path, truth: pd.DataFrame, style: str) -> None:
    with serve("rest", world, style=style) as server:
        records = collect_rest(Client(REST_AUTH), server, style, size=4)
    ids = _ids(records, "Số hồ sơ")
    assert len(ids) == len(set(ids)) and set(ids) == _truth_ids(truth, "hanoi")
    assert len(ids) > 8  # more than two pages of 4
    keys = [(r["Ngày cập nhật"], r["Số hồ sơ"]) for r in records]
    assert keys == sorted(keys)
    assert {"Tên giải pháp", "Tình trạng", "Mã đơn vị", "Mã cổng"} <= set(records[0])


def test_rest_link_style_sends_a_next_link_only_while_pages_remain(world: Path) -> None:
    with serve("rest", world, style="link") as server:
        first = requests.get(server.endpoint, headers=REST_AUTH, params={"page_size": 4}, timeout=5)
        assert 'rel="next"' in first.headers["Link"] and "page=2" in first.links["next"]["url"]
        last = requests.get(server.endpoint, headers=REST_AUTH, params={"page_size": 500}, timeout=5)
        assert "Link" not in last.headers and isinstance(last.json(), list)


def test_rest_rejects_the_parameters_of_another_pagination_style(world: Path) -> None:
    with serve("rest", world, style="offset") as server:
        response = requests.get(server.endpoint, headers=REST_AUTH, params={"page": 2}, timeout=5)
    assert response.status_code == 400 and "bad parameter page" in response.json()["error"]


@pytest.mark.parametrize("auth, good", [
    ("header", {"headers": {"X-API-Key": TOKEN}}), ("query", {"params": {"api_key": TOKEN}}),
    ("bearer", {"headers": {"Authorization": f"Bearer {TOKEN}"}}),
    ("basic", {"headers": {"Authorization": "Basic " + base64.b64encode(f"api:{TOKEN}".encode()).decode()}}),
])
def test_rest_accepts_only_the_configured_credentials(world: Path, auth: str, good: dict[str, Any]) -> None:
    with serve("rest", world, auth=auth) as server:
        assert requests.get(server.endpoint, timeout=5, **good).status_code == 200
        wrong = requests.get(server.endpoint, headers={"X-API-Key": "nope"}, timeout=5)
        assert wrong.status_code == 401 and wrong.json() == {"error": "invalid API key"}


def test_rest_source_without_a_modification_column_gets_modified_at_and_filters_inclusively(
        world: Path, truth: pd.DataFrame) -> None:
    with serve("rest", world, style="cursor", source="baocao_tinh") as server:
        client = Client(REST_AUTH)
        records = collect_rest(client, server, "cursor", size=50)
        assert set(_ids(records, "Ma SK")) == _truth_ids(truth, "baocao_tinh")
        watermark = max(r["modified_at"] for r in records)
        changed = server.system.change_records(0.02, seed=5)
        again = collect_rest(client, server, "cursor", size=50, since=watermark)
    boundary = {r["Ma SK"] for r in again if r["modified_at"] == watermark}
    assert boundary and set(_ids(again, "Ma SK")) - boundary == set(changed)


# --------------------------------------------------------------------------- each fault, observable


def test_5xx_fault_answers_500_502_or_503(world: Path) -> None:
    with serve("portal", world, faults="5xx=1") as server:
        codes = {requests.get(server.endpoint, headers=PORTAL_AUTH, timeout=5).status_code for _ in range(12)}
        assert codes <= {500, 502, 503} and len(codes) > 1
        assert server.system.fault_counts["5xx"] == 12


def test_429_fault_answers_with_retry_after(world: Path) -> None:
    with serve("rest", world, faults="429=1,retry_after=1") as server:
        response = requests.get(server.endpoint, headers=REST_AUTH, timeout=5)
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"


def test_faults_never_hide_a_wrong_token(world: Path) -> None:
    with serve("portal", world, faults="5xx=1") as server:
        assert requests.get(server.endpoint, headers={"Authorization": "Bearer x"}, timeout=5).status_code == 401


def test_slow_fault_outlasts_a_client_timeout_and_stop_does_not_wait_for_it(world: Path) -> None:
    server = serve("portal", world, faults="slow=1,slow_delay=5")
    with pytest.raises(requests.Timeout):
        requests.get(server.endpoint, headers=PORTAL_AUTH, timeout=0.3)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2


def test_truncated_fault_sends_200_with_invalid_json(world: Path) -> None:
    with serve("portal", world, faults="truncated=1") as server:
        response = requests.get(server.endpoint, headers=PORTAL_AUTH, timeout=5)
    assert response.status_code == 200 and response.content
    with pytest.raises(ValueError):
        response.json()


def test_drop_fault_breaks_the_connection_mid_body(world: Path) -> None:
    with serve("rest", world, faults="drop=1") as server:
        with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
            requests.get(server.endpoint, headers=REST_AUTH, timeout=5)


def test_shift_fault_makes_pages_overlap_without_losing_a_record(world: Path) -> None:
    with serve("portal", world, faults="shift=1") as server:
        records = collect_portal(Client(PORTAL_AUTH), server, limit=20)
        ids = _ids(records)
        assert len(ids) > len(set(ids)) and set(ids) == server.system.ids()


def test_update_fault_moves_a_record_to_the_end_where_the_same_sync_sees_it_again(world: Path) -> None:
    with serve("portal", world, faults="update=1") as server:
        records = collect_portal(Client(PORTAL_AUTH), server, limit=20)
        ids = _ids(records)
        assert server.system.fault_counts["update"] == server.system.path_counts[server.system.data_path]
        assert set(ids) == server.system.ids()
        latest = {r["id"]: r["updated_at"] for r in records}
        assert latest == {r["id"]: r["updated_at"] for r in server.system.records()}


@pytest.mark.parametrize("style", ["page", "offset", "cursor", "link"])
def test_rest_shift_and_update_faults_lose_no_record_in_any_style(world: Path, style: str) -> None:
    with serve("rest", world, style=style, faults="shift=0.5,update=0.5") as server:
        records = collect_rest(Client(REST_AUTH), server, style, size=3)
        assert set(_ids(records, "Số hồ sơ")) == server.system.ids()
        assert sum(server.system.fault_counts.values()) == server.system.requests


# --------------------------------------------------------------------------- all faults at 20 %


def test_retrying_client_collects_exactly_the_portal_records_under_20_percent_faults(
        world: Path, truth: pd.DataFrame) -> None:
    faults = ALL_FAULTS_20 + ",retry_after=0,slow_delay=1,seed=11"
    with serve("portal", world, faults=faults) as server:
        records = collect_portal(Client(PORTAL_AUTH, retrying=True, timeout=0.5), server, limit=5)
        ids = set(_ids(records))
        assert ids == server.system.ids()
        assert {server.system.truth_id(i) for i in ids} == _truth_ids(truth, "portal")
        assert len(server.system.fault_counts) >= 5


@pytest.mark.parametrize("seed, style", enumerate(["page", "offset", "cursor", "link"], start=20))
def test_retrying_client_collects_exactly_the_rest_records_under_20_percent_faults(
        world: Path, truth: pd.DataFrame, seed: int, style: str) -> None:
    faults = ALL_FAULTS_20 + f",retry_after=0,slow_delay=1,seed={seed}"
    with serve("rest", world, style=style, source="baocao_tinh", faults=faults) as server:
        records = collect_rest(Client(REST_AUTH, retrying=True, timeout=0.5), server, style, size=2)
        assert set(_ids(records, "Ma SK")) == server.system.ids() == _truth_ids(truth, "baocao_tinh")
        assert len(server.system.fault_counts) >= 5


# --------------------------------------------------------------------------- command line


def test_main_serves_until_interrupted_and_prints_its_url(world: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "sandbox.servers", "portal", "--world", str(world)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert url, line
        response = requests.get(url.group(0) + "/api/v1/initiatives", headers=PORTAL_AUTH, timeout=5)
        assert response.status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0  # generous: CI shares two cores
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_main_reports_a_bad_fault_spec_in_one_line(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rest", "--world", str(world), "--faults", "5xx=3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "5xx=3" in err and err.count("\n") == 1
