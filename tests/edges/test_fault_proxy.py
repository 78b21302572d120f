"""The fault proxy in front of each HTTP kind: the portal and the REST connector's four paging styles sync
through 20% transport faults (5xx, 429, slow, truncated, dropped) and land every record once."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from sandbox.generate import generate_world
from sandbox.servers import serve
from sandbox.servers.proxy import FaultProxy, fault_proxy
from sangkien import store
from sangkien.pipeline.run import run_sync
from sangkien.reference.orgs import load_orgs
from sangkien.store.registry import add_connector
from tests.edges.test_connector_rest import STYLE_SETTINGS, hanoi_settings

KEY = "proxy-test-key-5c1d"
# 20% of requests get a fault, one kind each; slower than the connectors' 1 s timeout for "slow"
FAULTS = "5xx=0.06,429=0.03,slow=0.02,truncated=0.05,drop=0.04,slow_delay=1.2,retry_after=0,seed={seed}"
KINDS = [("portal", "-"), *(("rest", style) for style in sorted(STYLE_SETTINGS))]


@pytest.fixture(scope="module")
def proxy_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("proxy") / "world"
    generate_world(root, 1200, seed=12, noise="none")
    return root


def _settings(kind: str, style: str, world: Path, url: str) -> dict[str, object]:
    if kind == "portal":
        return {"base_url": url, "token": "env:SANGKIEN_TEST_PROXY_KEY", "page_size": 25, "timeout": 1.0,
                "attempts": 12}
    return {**hanoi_settings(world, url, style), "token": "env:SANGKIEN_TEST_PROXY_KEY", "page_size": 2}


def test_the_proxy_refuses_faults_that_change_data_and_passes_answers_through(proxy_world):
    with pytest.raises(ValueError, match="shift"):
        fault_proxy("http://127.0.0.1:9", "shift=0.1")
    import requests

    with serve("rest", proxy_world, token=KEY, style="link") as source, fault_proxy(source.url, "") as proxy:
        answer = requests.get(proxy.url + "/api/records?page_size=2", headers={"X-API-Key": KEY}, timeout=10)
        refused = requests.get(proxy.url + "/api/records", timeout=10)
    assert answer.status_code == 200 and len(answer.json()) == 2
    assert answer.links["next"]["url"].startswith(proxy.url)  # the source's links point back at the proxy
    assert refused.status_code == 401  # the source's own answers pass unchanged
    assert proxy.system.requests == proxy.system.forwarded == 2


@pytest.mark.parametrize(("kind", "style"), KINDS, ids=[f"{k}-{s}" if s != "-" else k for k, s in KINDS])
def test_every_http_kind_lands_each_record_once_through_the_fault_proxy(kind, style, proxy_world, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("SANGKIEN_TEST_PROXY_KEY", KEY)
    engine = store.open_store(f"sqlite:///{tmp_path / 's.db'}")
    load_orgs(engine, proxy_world / "orgs.csv")
    seed = KINDS.index((kind, style)) + 3
    with serve(kind, proxy_world, token=KEY, style="page" if kind == "portal" else style,
               source=None if kind == "portal" else "hanoi") as source, \
            fault_proxy(source.url, FAULTS.format(seed=seed)) as proxy:
        add_connector(engine, kind, kind, _settings(kind, style, proxy_world, proxy.url))
        _, [result], _, status = run_sync(engine)
        held = source.system.ids()
    system: FaultProxy = proxy.system
    with engine.connect() as conn:
        ids = list(conn.scalars(sa.select(store.raw_records.c.source_record_id)))
    lost, doubled = len(held - set(ids)), len(ids) - len(set(ids))
    print(f"\nfault proxy, {kind} {style}: {system.requests} requests, {system.faults_injected} faults "
          f"({dict(sorted(system.fault_counts.items()))}), {len(held)} records, {lost} lost, {doubled} doubled")
    assert status == "completed", result.errors
    assert system.faults_injected >= 3  # the faults did happen (about one request in five)
    assert lost == 0 and doubled == 0 and set(ids) == held
    assert result.received == len(held) == result.land.new  # each record counted once, none "changed"


def test_sangkien_sandbox_proxy_serves_in_the_foreground_and_counts_what_it_did(proxy_world):
    import requests

    with serve("portal", proxy_world, token=KEY) as source:
        proxy = subprocess.Popen([sys.executable, "-m", "sangkien.cli.main", "sandbox", "proxy", source.url,
                                  "--faults", "5xx=1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = proxy.stdout.readline() if proxy.stdout else ""
            url = first.split()[3]
            answers = [requests.get(url + "/api/v1/initiatives", timeout=10).status_code for _ in range(3)]
        finally:
            proxy.send_signal(signal.SIGTERM)
            out, err = proxy.communicate(timeout=60)
    assert first.startswith("fault proxy at http://127.0.0.1:") and f"in front of {source.url}" in first
    assert answers and all(status in (500, 502, 503) for status in answers)
    assert proxy.returncode == 0, err
    assert "3 request(s), 3 fault(s): 5xx 3" in out
