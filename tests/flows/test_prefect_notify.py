"""A failed run of a sangkien deployment posts to the ops webhook (a Prefect automation made by
`sangkien deploy --notify-webhook URL`), against a local Prefect server started here."""
from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from sandbox.prefect_local import PrefectServer, Worker
from tests.conftest import run_cli
from tests.flows.test_prefect_server import prefect_api, run_deployment_and_wait

pytestmark = pytest.mark.prefect_server


class _Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Hook.received.append(json.loads(body or b"{}"))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[str]:
    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{hook.server_address[1]}/hooks/ops?token=hook-s3cret"
    hook.shutdown()


def test_a_failed_run_posts_to_the_ops_webhook(tmp_path, webhook):
    with PrefectServer(tmp_path / "prefect-home") as server:
        result = run_cli("deploy", "--notify-webhook", webhook, env=server.env)
        assert result.returncode == 0, result.stderr
        assert "automation 'sangkien: a sync run failed'" in result.stdout
        assert "hook-s3cret" not in result.stdout + result.stderr
        with Worker(server, "w-hook", env={"SANGKIEN_DB_URL": f"sqlite:///{tmp_path / 'node.db'}"}):
            for api in prefect_api(server):  # a source that is not registered: the run fails
                failed = run_deployment_and_wait(api, "sangkien-nightly-sync/nightly", {"connectors": ["nobody"]})
        assert failed.state.is_failed()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _Hook.received:
            time.sleep(0.5)
    assert _Hook.received, "the automation did not post to the webhook"
    text = _Hook.received[0]["text"]
    assert "sangkien-nightly-sync" in text and "Failed" in text and "no connector named nobody" in text
