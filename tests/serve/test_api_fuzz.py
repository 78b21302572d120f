"""A bounded fuzz run of the node API's OpenAPI spec (schemathesis): nothing it sends may cause a 500.

Cases are generated from /openapi.json, positive and negative (values that break the
schema), against the real server on loopback, once with a valid child token and once
without; the store is on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from sangkien.serve.api import create_app, serve_in_thread
from sangkien.store.nodes import add_child
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.store.settings import set_setting


@pytest.fixture
def node_api(engine, world, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SANGKIEN_TEST_PROGRAM_KEY", "fuzz")
    load_orgs(engine, world.root / "orgs.csv")
    load_quotas(engine, world.root / "quotas.csv")
    with engine.begin() as conn:
        token = add_child(conn, "P01")
        set_setting(conn, "code", "VGCL")
        set_setting(conn, "program_key", "env:SANGKIEN_TEST_PROGRAM_KEY")
    with serve_in_thread(create_app(engine, max_bytes=256 * 1024)) as url:
        yield url, token


def test_no_request_makes_the_api_fail(node_api) -> None:  # type: ignore[no-untyped-def]
    url, token = node_api
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/submissions", "/api/v1/totals", "/api/v1/reconciliation"}
    failures: list[str] = []
    skipped: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                      database=None)
            def run(case) -> None:  # type: ignore[no-untyped-def]
                for headers in ({"Authorization": f"Bearer {token}"}, {}):
                    response = case.call(base_url=url, headers=headers)
                    if response.status_code >= 500:
                        failures.append(f"{case.method} {case.formatted_path} {mode.name} -> "
                                        f"{response.status_code}: {response.text[:200]}")

            try:
                run()
            except Unsatisfiable:  # e.g. no way to break a GET whose parameters are all optional
                skipped.append(f"{operation.method.upper()} {operation.path} {mode.name}")
    assert not failures, "\n".join(failures[:10])
    assert len(skipped) < len(operations), f"too little was generated: {skipped}"


def test_the_spec_documents_the_intake(node_api) -> None:  # type: ignore[no-untyped-def]
    url, _ = node_api
    spec = requests.get(url + "/openapi.json", timeout=30).json()
    post = spec["paths"]["/api/v1/submissions"]["post"]
    assert {"201", "401", "403", "413", "422"} <= set(post["responses"])
    assert "Submission" in str(post["requestBody"])
