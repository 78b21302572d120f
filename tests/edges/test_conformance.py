"""Conformance: every registered connector kind keeps the connector contract.

After the Singer SDK's generated tap tests: one suite, parametrised over the kinds that
``connectors.kinds.connector_kinds()`` finds, each run against a real source that the
kind's harness (tests/edges/harnesses.py) starts. For every kind:

* its settings round-trip (``model_dump`` → ``model_validate`` gives them back, also through
  JSON, as the store keeps them), and its mapping covers every required field;
* ``check`` answers in one line, and fails in one line with a typed error when broken;
* ``read`` from an empty state delivers every record once, in batches whose state is JSON;
* resuming from a saved state delivers nothing new and nothing twice;
* a secret setting's value appears in no repr, stored setting or message.

A kind from an entry point is held to the same suite: ``sangkien-testkind`` (the module in
tests/edges/kinddist/) is installed on the fly as a distribution in a temporary folder
put on ``sys.path``, and is found through its entry point like any province's package.
"""
from __future__ import annotations

import atexit
import importlib
import itertools
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from connectors.base import Batch, Connector, ConnectorError, ErrorType
from connectors.kinds import GROUP, connector_kinds
from connectors.secrets import SecretRef, redact
from sandbox.generate import generate_world
from sangkien.store.registry import build_connector
from schemas.fields import REQUIRED_FIELDS
from tests.conftest import IN_CI
from tests.edges.harnesses import HARNESSES, SECRET_ENV, Source

BUILT_IN = {"files", "portal", "rest", "sql"}
TEST_KIND = "jsonl"
KIND_MODULE = Path(__file__).parent / "kinddist" / "sangkien_testkind.py"


def _make_test_kind_distribution() -> Path:
    """A folder holding the test kind's module and its dist-info (the entry point), as pip would leave it."""
    root = Path(tempfile.mkdtemp(prefix="sangkien-testkind-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    shutil.copy(KIND_MODULE, root / KIND_MODULE.name)
    info = root / "sangkien_testkind-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sangkien-testkind\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{TEST_KIND} = sangkien_testkind:JsonLinesConnector\n",
                                           encoding="utf-8")
    return root


KIND_DIST = _make_test_kind_distribution()


@contextmanager
def kind_package_on_path() -> Iterator[None]:
    """The test kind's distribution on ``sys.path`` (installed), for the duration."""
    sys.path.insert(0, str(KIND_DIST))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(str(KIND_DIST))
        importlib.invalidate_caches()


with kind_package_on_path():
    KINDS = sorted(connector_kinds())


@pytest.fixture(scope="module", autouse=True)
def _installed() -> Iterator[None]:
    with kind_package_on_path():
        yield


@pytest.fixture(scope="module")
def sim_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("conformance") / "world"
    generate_world(root, 300, seed=6, noise="none")
    return root


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def source(kind: str, sim_world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Source]:
    if kind not in HARNESSES:
        pytest.fail(f"connector kind {kind!r} has no harness in tests/edges/harnesses.py")
    with HARNESSES[kind].source(sim_world, tmp_path) as running:
        for name, value in running.env.items():
            monkeypatch.setenv(name, value)
        yield running


def build(kind: str, config: dict[str, Any]) -> Connector:
    """A connector as a sync builds it: settings validated through the registry's path."""
    return build_connector({"name": f"conformance-{kind}", "kind": kind, "config": config})


def delivered(connector: Connector, state: dict[str, Any]) -> tuple[list[Batch], list[str]]:
    """The batches ``read(state)`` yields (none may fail) and the record ids in them, in order."""
    batches = list(connector.read(state))
    for batch in batches:
        assert batch.problem is None, f"{batch.label}: {batch.problem}"
    id_column = connector.columns["source_record_id"]
    ids = [str(v) for b in batches if len(b.rows) for v in b.rows[id_column]]
    return batches, ids


def secret_settings(model: type[BaseModel]) -> list[str]:
    """The settings typed ``SecretRef`` (required or optional)."""
    def is_secret(annotation: Any) -> bool:
        if get_origin(annotation) is Annotated:
            return annotation == SecretRef
        return any(is_secret(a) for a in get_args(annotation))

    marker = get_args(SecretRef)[1]
    return [name for name, info in model.model_fields.items()
            if is_secret(info.annotation) or marker in info.metadata]


def test_every_registered_kind_has_a_harness_and_the_test_kind_is_among_them():
    assert BUILT_IN | {TEST_KIND} <= set(KINDS)
    assert set(KINDS) <= set(HARNESSES), "add a harness to tests/edges/harnesses.py for every kind"


def test_a_kind_from_its_own_package_is_found_through_the_entry_point_group():
    [point] = [ep for ep in entry_points(group=GROUP) if ep.name == TEST_KIND]
    assert point.dist is not None and point.dist.name == "sangkien-testkind"
    found = connector_kinds()[TEST_KIND]
    assert found.__module__ == "sangkien_testkind" and found.kind == TEST_KIND
    sys.path.remove(str(KIND_DIST))
    importlib.invalidate_caches()
    try:
        assert TEST_KIND not in connector_kinds() and set(connector_kinds()) >= BUILT_IN
    finally:
        sys.path.insert(0, str(KIND_DIST))
        importlib.invalidate_caches()


def test_settings_round_trip_and_map_every_required_field(kind: str, source: Source):
    settings_model = connector_kinds()[kind].Settings
    settings = settings_model.model_validate(source.config)
    assert settings_model.model_validate(settings.model_dump()) == settings
    assert settings_model.model_validate(json.loads(settings.model_dump_json())) == settings  # as the store keeps them
    connector = build(kind, source.config)
    assert connector.mapping == type(connector).mapping_of(settings)
    assert set(REQUIRED_FIELDS) <= set(connector.mapping.columns)


def test_check_answers_in_one_line_and_fails_in_one_line_with_a_type(kind: str, source: Source):
    answer = build(kind, source.config).check()
    assert isinstance(answer, str) and answer.strip() and "\n" not in answer
    with pytest.raises(ConnectorError) as caught:
        build(kind, {**source.config, **source.broken}).check()
    assert str(caught.value).strip() and "\n" not in str(caught.value)
    assert isinstance(caught.value.error_type, ErrorType)


def test_read_from_an_empty_state_delivers_every_record_once_in_batches_with_state(kind: str, source: Source):
    batches, ids = delivered(build(kind, source.config), {})
    assert len(batches) >= 2  # each harness sizes its batches so that resuming means something
    assert len(ids) == len(set(ids)) and set(ids) == source.ids
    for batch in batches:
        assert json.loads(json.dumps(batch.state)) == batch.state  # the store keeps it as JSON
        if len(batch.rows):
            assert set(batch.headers) <= set(batch.rows.columns) and batch.rows["_origin"].map(bool).all()


def test_resuming_from_a_saved_state_delivers_nothing_new_and_nothing_twice(kind: str, source: Source):
    connector = build(kind, source.config)
    batches, ids = delivered(connector, {})
    first = set(batches[0].rows[connector.columns["source_record_id"]].astype(str))
    _, rest = delivered(build(kind, source.config), batches[0].state)  # killed after the first batch
    assert not first & set(rest) and len(rest) == len(set(rest))  # nothing twice
    assert first | set(rest) == set(ids)  # nothing lost
    _, again = delivered(build(kind, source.config), batches[-1].state)  # the next sync, nothing changed
    assert set(again) <= set(ids)  # nothing new
    assert len(again) <= 1  # at most the record at an inclusive watermark, which lands once by content hash


def test_a_secret_setting_never_appears_in_a_repr_a_stored_setting_or_a_message(kind: str, source: Source,
                                                                                monkeypatch: pytest.MonkeyPatch):
    declared = secret_settings(connector_kinds()[kind].Settings)
    expected = HARNESSES[kind].secret_setting
    assert declared == ([expected] if expected else [])
    if not declared:
        return  # nothing secret to leak
    if source.secret is None:
        if IN_CI:
            pytest.fail(f"the {kind} harness has no source with a secret here")
        pytest.skip(f"the {kind} harness has no source with a secret here (no PostgreSQL)")
    connector = build(kind, source.config)
    texts = [connector.check()]
    batches = list(itertools.islice(connector.read({}), 1))
    texts += [repr(connector), repr(connector.settings), connector.settings.model_dump_json(), repr(vars(connector)),
              json.dumps(batches[0].state), redact(f"Authorization: Bearer {source.secret}")]
    assert str(connector.settings.model_dump()[declared[0]]).startswith("env:")
    with pytest.raises(ConnectorError) as caught:
        build(kind, {**source.config, **source.broken}).check()
    texts.append(str(caught.value))
    secrets = [source.secret]
    if source.wrong_secret:
        monkeypatch.setenv(SECRET_ENV, source.wrong_secret)
        with pytest.raises(ConnectorError) as refused:
            build(kind, source.config).check()
        assert refused.value.error_type == ErrorType.CONFIGURATION
        texts.append(str(refused.value))
        secrets.append(source.wrong_secret)
    leaked = [(secret, text) for secret in secrets for text in texts if secret in text]
    assert not leaked


def test_sample_reads_a_few_rows_from_scratch_and_discover_shows_every_mapped_column(kind: str, source: Source):
    """What `connectors check`, `preview` and `discover` read: a few rows of each part, no state needed."""
    connector = build(kind, source.config)
    sampled = list(connector.sample(5))
    assert sampled and all(b.problem is None for b in sampled)
    assert all(len(b.rows) <= 5 for b in sampled)
    ids = [str(v) for b in sampled for v in b.rows[connector.columns["source_record_id"]]]
    assert ids and set(ids) <= source.ids
    discovered = [b for b in build(kind, source.config).discover(5) if b.problem is None]
    assert set(connector.columns.values()) <= {h for b in discovered for h in b.headers}
