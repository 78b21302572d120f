"""The intake API an upper node serves to the nodes below it (``sangkien serve``).

``POST /api/v1/submissions``: a child node pushes its counts (schemas/push.py) with its
bearer token. Rejections store nothing and are logged: a missing or wrong token is
401; a payload from another node, or naming a unit outside the child's subtree, is
403; a payload that does not parse is 422 naming the fields; one over the size limit
is 413. A repeated idempotency key returns the first receipt. Submissions are kept
append-only; the latest per child (by as-of) is what counts.

``GET /api/v1/totals`` and ``GET /api/v1/reconciliation`` serve the figures; reading them
(and the dashboard) needs a node token, whoever asks and whatever proxy headers say, unless
the operator opened reads (``sangkien serve --public-reads``). ``/docs`` and
``/openapi.json`` describe it all.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from sangkien import store
from sangkien.errors import UserError
from sangkien.pipeline import summary
from sangkien.present import board
from sangkien.present.explain import Explainer
from sangkien.present.report import report_rows
from sangkien.reference import tree
from sangkien.serve import dashboard
from sangkien.store import nodes
from sangkien.store.settings import get_setting
from schemas.push import DEFAULT_PROGRAM, Receipt, Submission, content_hash, join_keys

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("sangkien.intake")
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
SUBTREE_TTL = 30.0  # seconds a child's subtree is cached (the org tree changes rarely)


class Problem(BaseModel):
    detail: Any


class TotalsRow(BaseModel):
    unit_code: str
    unit_name: str | None
    phase: int
    records: int
    initiatives: int
    valid: int
    pending: int
    rejected: int
    registrants: int
    target: int | None
    completion: float | None
    basis: str | None = None  # the target's counting basis
    assigned_by: str | None = None  # who set the target: a unit and phase may hold one per assigner and basis
    counted: float | None = None  # the count on the basis (a share: in percent)


class Totals(BaseModel):
    as_of: str | None
    rows: list[TotalsRow]


class _Subtrees:
    """Each child's subtree, read off the org tree's closure, which is loaded again after SUBTREE_TTL."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.lock = threading.Lock()
        self.loaded = 0.0
        self.closure: pd.DataFrame | None = None
        self.subtrees: dict[str, frozenset[str]] = {}

    def of(self, code: str) -> frozenset[str]:
        with self.lock:
            if self.closure is None or time.monotonic() - self.loaded > SUBTREE_TTL:
                with self.engine.connect() as conn:
                    self.closure = tree.ancestor_pairs(conn)
                self.subtrees = {}
                self.loaded = time.monotonic()
            if code not in self.subtrees:
                self.subtrees[code] = tree.subtree(self.closure, code)
            return self.subtrees[code]


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(401, reason, headers={"WWW-Authenticate": "Bearer"})


def _field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": ["body", *err["loc"]], "msg": err["msg"], "type": err["type"]} for err in exc.errors()[:50]]


def create_app(engine: Engine, max_bytes: int | None = None, public_reads: bool = False) -> FastAPI:
    """The intake app over ``engine``'s store; ``public_reads``: the figures and the dashboard need no token."""
    app = FastAPI(title="sangkien-sync node API", version="1",
                  description="Intake of consolidated counts from child nodes, and the reconciled totals. "
                              "Payload: schemas/push.py (version 1). A query parameter is given at most once "
                              "(`kind` of the worklist excepted) and holds no NUL character, else 422.",
                  dependencies=[Depends(_plain_parameters)])
    app.state.engine = engine
    if max_bytes is None:
        with engine.connect() as conn:
            max_bytes = int(get_setting(conn, "intake_max_bytes") or DEFAULT_MAX_BYTES)
    reader = Depends(_reader(engine, public_reads))
    _add_intake(app, engine, max_bytes)
    _add_figures(app, engine, reader)
    app.include_router(dashboard.router, dependencies=[reader])  # the page at /, its data, its assets
    app.openapi = _openapi(app, public_reads)  # type: ignore[method-assign]  # FastAPI documents replacing it this way
    # What is loaded by now (pandas, SQLAlchemy, the app: millions of objects) lives as long as the server:
    # kept out of the collector's sight, a full collection during a request walks only what requests made
    # (the first dashboard answer on the national store: ~220 -> ~70 ms).
    gc.freeze()
    return app


REPEATABLE = frozenset({"kind"})  # the worklist's kinds: the only list parameter


def _plain_parameters(request: Request) -> None:
    """Refuse (422, as FastAPI refuses a bad parameter) a query parameter given twice (it would silently keep
    only its last value) and a NUL character in a parameter (no database stores one in text)."""
    seen: set[str] = set()
    for name, value in request.query_params.multi_items():
        if name in seen and name not in REPEATABLE:
            _refuse("query", name, f"{name} is given more than once", request.query_params.getlist(name))
        if "\x00" in value:
            _refuse("query", name, f"{name} contains a NUL character", value)
        seen.add(name)
    for name, value in request.path_params.items():
        if "\x00" in str(value):
            _refuse("path", name, f"{name} contains a NUL character", value)


def _refuse(where: str, name: str, why: str, value: object) -> None:
    raise RequestValidationError([{"loc": [where, name], "msg": why, "type": "value_error", "input": value}])


def _reader(engine: Engine, public: bool) -> Callable[..., None]:
    """The dependency of every read: a node token, from wherever the request comes (a proxy on this machine
    makes every request look local), unless the operator opened reads (``public``)."""

    def reader(authorization: Annotated[str | None, Header()] = None) -> None:
        if public:
            return
        with engine.connect() as conn:
            if nodes.authenticate(conn, _bearer(authorization)) is None:
                raise _unauthorized("a node token is needed to read (the operator may open reads: "
                                    "`sangkien serve --public-reads`)")

    return reader


def _add_intake(app: FastAPI, engine: Engine, limit: int) -> None:
    """``POST /api/v1/submissions``: a child's push, checked (token, size, payload, node, subtree), then stored."""
    subtrees = _Subtrees(engine)

    @app.post("/api/v1/submissions", response_model=Receipt, status_code=201,
              responses={200: {"model": Receipt, "description": "a replay: the first receipt for this key"},
                         401: {"model": Problem}, 403: {"model": Problem}, 409: {"model": Problem},
                         413: {"model": Problem}, 422: {"model": Problem}},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {"$ref": "#/components/schemas/Submission"}}}}})
    async def submit(request: Request, authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        """Receive a child node's submission (idempotent on its idempotency_key)."""
        child = await run_in_threadpool(_authenticate, engine, _bearer(authorization))
        if child is None:
            log.warning("intake: refused a submission from %s: missing or unknown token",
                        request.client.host if request.client else "?")
            raise _unauthorized("missing, unknown or revoked node token")
        body = await _read_body(request, child, limit)
        try:
            submission = Submission.model_validate_json(body)
        except ValidationError as exc:
            errors = _field_errors(exc)
            log.warning("intake: refused %s's submission: invalid (%s)", child,
                        "; ".join(".".join(str(p) for p in e["loc"][1:]) + ": " + e["msg"] for e in errors[:3]))
            return JSONResponse({"detail": errors}, status_code=422)
        if submission.as_of > dt.datetime.now(dt.UTC) + dt.timedelta(hours=1):
            log.warning("intake: refused %s's submission: as_of %s is in the future", child, submission.as_of)
            return JSONResponse({"detail": [{"loc": ["body", "as_of"], "msg": "as_of is in the future",
                                             "type": "value_error"}]}, status_code=422)
        if submission.node != child:
            log.warning("intake: refused %s's submission: it says it comes from %s", child, submission.node)
            raise HTTPException(403, f"this token belongs to node {child}; the submission names node {submission.node}")
        _check_subtree(child, submission, subtrees.of(child))
        unknown = await run_in_threadpool(_unknown_program, engine, submission.program)
        if unknown:
            log.warning("intake: refused %s's submission: %s", child, unknown)
            return JSONResponse({"detail": [{"loc": ["body", "program"], "msg": unknown, "type": "value_error"}]},
                                status_code=422)
        return await run_in_threadpool(_store_submission, engine, submission)


async def _read_body(request: Request, child: str, limit: int) -> bytes:
    """The request's body, refused with 413 as soon as it is known to be over ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        log.warning("intake: refused %s's submission: %s bytes over the %s-byte limit", child, declared, limit)
        raise HTTPException(413, f"submission of {declared} bytes is over this node's limit of {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            log.warning("intake: refused %s's submission: over the %s-byte limit", child, limit)
            raise HTTPException(413, f"submission is over this node's limit of {limit} bytes")
    return bytes(body)


def _check_subtree(child: str, submission: Submission, allowed: frozenset[str]) -> None:
    """Refuse (403) a submission naming a unit outside the child's subtree."""
    named = ({u.unit_code for u in submission.units} | {e.unit_code for e in submission.initiatives}
             | {i.unit_code for i in submission.ineligible})
    outside = sorted(named - allowed)
    if outside:
        log.warning("intake: refused %s's submission: %d unit(s) outside its subtree, e.g. %s",
                    child, len(outside), outside[0])
        raise HTTPException(403, f"node {child} may report only units in its own subtree; not: "
                                 f"{', '.join(outside[:10])}{' …' if len(outside) > 10 else ''}")


def _add_figures(app: FastAPI, engine: Engine, reader: Any) -> None:
    """``GET /api/v1/totals`` and ``GET /api/v1/reconciliation``, behind ``reader``."""

    @app.get("/api/v1/totals", response_model=Totals, dependencies=[reader],
             responses={401: {"model": Problem}, 404: {"model": Problem}, 422: {"model": Problem}})
    def totals(unit: Annotated[str | None, Query(max_length=64)] = None,
               phase: Annotated[int | None, Query(ge=1, le=99)] = None) -> Any:
        """Per unit and phase: the counts from the last roll-up (children's latest submissions included) and the
        target."""
        with engine.connect() as conn:
            try:
                as_of, rows = report_rows(conn, phase, unit)
            except UserError as exc:
                raise HTTPException(404, str(exc)) from None
        return {"as_of": as_of, "rows": rows}

    @app.get("/api/v1/reconciliation", dependencies=[reader],
             responses={401: {"model": Problem}, 404: {"model": Problem}, 422: {"model": Problem}})
    def reconciliation(unit: Annotated[str | None, Query(max_length=64)] = None,
                       phase: Annotated[int | None, Query(ge=1, le=99)] = None,
                       offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
                       limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
                       lang: Annotated[str, Query(pattern="^(vi|en)$")] = "en") -> Any:
        """Every discrepancy the last roll-up found, ranked: against quotas, between sources, and between what
        children pushed and what this node computes for their subtrees, each with its likely cause and what to
        do (``unit``: that unit and every unit below it). Empty until an org tree is loaded."""
        summary.ensure_current(engine)
        with engine.connect() as conn:
            if unit is not None and board.find_unit(conn, unit) is None:
                raise HTTPException(404, f"unknown unit {unit!r}; unit codes are in the org tree "
                                         "(`sangkien orgs list`)")
            found = board.worklist_rows(conn, Explainer(lang, board.portals(conn)), unit, phase,
                                        ("quota", "sources", "pushed"), below=True, offset=offset, limit=limit)
            kept = summary.state(conn) or {}
        return {"as_of": board.utc_text(kept.get("counts_as_of")), "tree_date": str(kept.get("tree_date") or "")
                or None, "total": found["total"], "offset": offset, "limit": limit, "rows": found["rows"]}


def _openapi(app: FastAPI, public_reads: bool) -> Callable[[], dict[str, Any]]:
    def openapi() -> dict[str, Any]:
        """FastAPI's spec, plus the submission's schema (the body is read by hand, for the size limit), and every
        status a route answers: 401 without a token (reads, unless public), 404 for a unit it does not know."""
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            body = Submission.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(body.pop("$defs", {}))
            schemas["Submission"] = body
            _document_statuses(spec, public_reads)
            _document_plain_parameters(spec)
            app.openapi_schema = spec
        return app.openapi_schema

    return openapi


def _document_statuses(spec: dict[str, Any], public_reads: bool) -> None:
    """Add to ``spec`` the 401 of every read (unless reads are public) and the 404 of every route that names a
    unit or a program (a ``{code}`` in its path, a ``unit`` or ``program`` parameter): FastAPI lists only what the
    decorators declare."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema()
    schemas.setdefault("Problem", problem)
    described = {"401": "a node token is needed", "404": "no such unit or program"}
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            names = {p.get("name") for p in operation.get("parameters", [])}
            statuses = ["404"] if "{code}" in path or {"unit", "program"} & names else []
            if method == "get" and not public_reads:
                statuses.append("401")
            for status in statuses:
                operation.setdefault("responses", {}).setdefault(status, {
                    "description": described[status],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})


NO_NUL = "^[^\\u0000]*$"


def _document_plain_parameters(spec: dict[str, Any]) -> None:
    """Say in ``spec`` what _plain_parameters refuses: no NUL in a text parameter (a pattern on each string)."""

    def plain(schema: dict[str, Any]) -> None:
        if schema.get("type") == "string" and not {"pattern", "enum", "const", "format"} & set(schema):
            schema["pattern"] = NO_NUL
        for sub in schema.get("anyOf", []):
            plain(sub)
        if schema.get("type") == "array":
            plain(schema.get("items", {}))

    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in ("query", "path"):
                    plain(parameter.setdefault("schema", {}))


def _authenticate(engine: Engine, token: str) -> str | None:
    with engine.connect() as conn:
        return nodes.authenticate(conn, token)


def _unknown_program(engine: Engine, program: str | None) -> str | None:
    """Why this node cannot count a submission for ``program`` (None: it can; no program is the default one)."""
    with engine.connect() as conn:
        known = list(conn.scalars(sa.select(store.programs.c.code).order_by(store.programs.c.code)))
    if (program or DEFAULT_PROGRAM) in known:
        return None
    return (f"this node holds no program {program!r}; known programs: {', '.join(known)} (the node above adds it "
            "with `sangkien programs add` and its phases)")


def _receipt_response(receipt: dict[str, Any], replayed: bool) -> JSONResponse:
    return JSONResponse({**receipt, "replayed": replayed}, status_code=200 if replayed else 201)


def _first_receipt(engine: Engine, key: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(store.submissions.c.receipt)
                           .where(store.submissions.c.idempotency_key == key)).first()
    return row[0] if row else None


def _store_submission(engine: Engine, sub: Submission) -> JSONResponse:
    digest = content_hash(sub.units, sub.initiatives, sub.ineligible, sub.program)
    first = _first_receipt(engine, sub.idempotency_key)
    if first is not None:
        if first["content_hash"] != digest:
            raise HTTPException(409, "this idempotency key was used before for different content")
        log.info("intake: %s replayed %s; answered with the first receipt", sub.node, sub.idempotency_key)
        return _receipt_response(first, True)
    received = dt.datetime.now(dt.UTC)
    try:
        with engine.begin() as conn:
            inserted = conn.execute(store.submissions.insert().values(
                node=sub.node, program=sub.program or DEFAULT_PROGRAM, as_of=sub.as_of,
                idempotency_key=sub.idempotency_key, content_hash=digest,
                schema_version=sub.version, received_at=received, receipt={}))
            sid = inserted.inserted_primary_key[0]  # type: ignore[index]  # an insert of one row has its key
            receipt = Receipt(submission_id=sid, node=sub.node, as_of=sub.as_of, idempotency_key=sub.idempotency_key,
                              content_hash=digest, received_at=received, units=len(sub.units),
                              initiatives=len(sub.initiatives)).model_dump(mode="json")
            conn.execute(store.submissions.update().where(store.submissions.c.id == sid).values(receipt=receipt))
            store.bulk_insert(conn, store.submission_units, ["submission_id", "unit_code", "phase", "records",
                                                             "initiatives", "valid", "pending", "rejected",
                                                             "ineligible", "registrants", "benefit_vnd",
                                                             "duplicates_removed"],
                              ((sid, u.unit_code, u.phase, u.records, u.initiatives, u.valid, u.pending, u.rejected,
                                u.ineligible, u.registrants, u.benefit_vnd, u.duplicates_removed) for u in sub.units))
            store.bulk_insert(conn, store.submission_entries, ["submission_id", "entry_no", "unit_code", "phase",
                                                               "status", "benefit_vnd", "records", "keys", "people",
                                                               "submitted_on"],
                              ((sid, n, e.unit_code, e.phase, e.status, e.benefit_vnd, e.records, join_keys(e.keys),
                                join_keys(e.people), e.submitted_on) for n, e in enumerate(sub.initiatives)))
            store.bulk_insert(conn, store.submission_ineligible, ["submission_id", "unit_code", "phase", "records"],
                              ((sid, i.unit_code, i.phase, i.records) for i in sub.ineligible))
    except sa.exc.IntegrityError:  # the same key, stored by a concurrent request a moment ago
        first = _first_receipt(engine, sub.idempotency_key)
        if first is None:
            raise
        if first["content_hash"] != digest:  # a replay only when it is the same content
            raise HTTPException(409, "this idempotency key was used before for different content") from None
        return _receipt_response(first, True)
    log.info("intake: stored %s's submission %s as of %s (%d units, %d initiatives)", sub.node, sid,
             sub.as_of.isoformat(), len(sub.units), len(sub.initiatives))
    return _receipt_response(receipt, False)


@contextlib.contextmanager
def serve_in_thread(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run ``app`` with uvicorn on a real socket in a background thread; yields its base URL.

    For tests, benchmarks and the demo: the same server `sangkien serve` runs, without a process of its own."""
    import socket

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
