"""Simulated source systems: real HTTP servers on loopback serving a generated world, with faults.

``serve(kind, world, ...)`` starts, in a background thread, a standard-library
``ThreadingHTTPServer`` on 127.0.0.1 that serves the records of one source of a world
written by :func:`sandbox.generate.generate_world`. The same records (same ids, same
content) as the world's file export are served, so ``truth.csv`` checks what a
connector landed. ``python -m sandbox.servers portal|rest --world DIR`` runs one in the
foreground.

Common to both servers
======================
* ``GET /`` answers 200 with a small HTML page (not JSON); any other path than the data
  endpoint answers 404 ``{"error": "not found: /path"}``; methods other than GET: 501.
* Checks run in this order, before any fault: path (404), credentials (401), query
  parameters (400 ``{"error": "bad parameter NAME: why"}``; an unknown or repeated
  parameter is a 400 naming it too). Faults only hit authorized, well-formed requests to
  the data endpoint, so a wrong token or path is always a clean 401/404.
* Times are UTC ``"YYYY-MM-DDTHH:MM:SSZ"`` (whole seconds). A time parameter
  (``updated_since``, ``modified_after``) accepts ISO 8601 with ``Z``, an offset
  (``+07:00``; an unencoded ``+`` read as a space is tolerated), no zone (taken as UTC) or
  a bare date; fractions of a second are dropped. **It is inclusive**: records with a
  modification time ``>=`` it are served. A client that resumes from the last time it
  saw gets that record (and its ties) again and dedupes by id.
* Records are ordered by (modification time, id) ascending. A changed record gets the
  time ``max(now, newest time held + 1 s)``, so changes are strictly increasing and a
  changed record always moves to the end of the order (these times may run a few
  seconds ahead of the clock when many records change at once: use the server's
  times, never the client's clock, as the watermark).
* Page sizes: default 100, 1..500, else 400.

Portal (``kind="portal"``): the national portal
------------------------------------------------
``GET /api/v1/initiatives?updated_since=<time>&cursor=<opaque>&limit=<n>`` with
``Authorization: Bearer <token>`` (else 401 ``{"error": "invalid token"}`` and
``WWW-Authenticate: Bearer``). All parameters are optional.

200 ``{"data": [record, ...], "next_cursor": "<opaque>" | null}``. The cursor is keyset:
it names the last record of the page, and the next page holds the records after it in
(updated_at, id) order (and ``>= updated_since`` when given, so send both or only the
cursor). ``next_cursor`` is null when no record followed the page when it was served.
A record ::

    {"id": "SK0007919", "title": "...", "authors": ["Lưu Kim Xuân", "Nguyễn Tiến Phúc"],
     "workplace": "Công đoàn cơ sở Bệnh viện Đa khoa Quận 4", "submitted_by": "Lưu Kim Xuân",
     "field": "Y tế", "solution_type": "Giải pháp quản lý", "recognized_on": "2021-09-07",
     "applied_on": "2021-09-07", "submitted_at": "2021-10-03", "status": "Hợp lệ",
     "benefit_vnd": 641213000, "updated_at": "2021-12-18T08:47:51Z"}

Built from the world's ``portal`` source (``sources/portal.yaml`` and its files): ``id``
is the ``portal_id`` column (the portal's own id, "SK…") when the source maps one and the
row has it, else the ``source_record_id`` column. ``truth.csv`` names portal rows by the
export's ``source_record_id`` ("ID" column, e.g. "1000001"): ``system.truth_id(id)``
maps one served id to it and ``system.truth_ids()`` gives the set for every record held.
Dates are re-written as ``YYYY-MM-DD`` (kept as typed when they do not parse);
``benefit_vnd`` is a number (Vietnamese separators read) or null when empty; labels are
the Vietnamese ones of the export ("Hợp lệ", "Chờ duyệt", "Không hợp lệ").

REST simulator (``kind="rest"``): a provincial system
-----------------------------------------------------
Serves one world source (``source``, default ``"hanoi"``). Each record is a JSON object
whose keys are the source's own column headers as mapped in ``sources/<source>.yaml``
(e.g. ``"Số hồ sơ"``, ``"Tên giải pháp"``, ``"Tình trạng"``), values the strings of the
export (NFC, dates in the source's ``date_format``, numbers as typed), except:

* the id field is the header mapped to ``source_record_id`` (hanoi: ``"Số hồ sơ"``);
  ``system.id_field`` names it; ids equal ``truth.csv``'s ``source_record_id``;
* the modification time field is the header mapped to ``updated_at`` when the source has
  one (hanoi: ``"Ngày cập nhật"``), else an added ``"modified_at"``; ``system.modified_field``
  names it; its value is always UTC ``"YYYY-MM-DDTHH:MM:SSZ"`` (a source without one, or a
  value that does not parse, gets ``2023-09-30T00:00:00Z``, dates at midnight).

Auth (``auth=``): ``"header"`` (default) ``X-API-Key: <token>``; ``"query"``
``?api_key=<token>``; ``"bearer"`` ``Authorization: Bearer <token>``; ``"basic"``
``Authorization: Basic`` of ``user:password`` where the token is ``"user:password"`` (a
token without a colon means user ``api``). Otherwise 401 ``{"error": "invalid API key"}``.

``GET /api/records?modified_after=<time>`` plus, by ``style`` (fixed at start; the other
styles' parameters are a 400):

* ``page``:   ``page=1..`` ``page_size=`` → ``{"items": [...], "page": n, "total_pages": N}``
  (a page past the end is empty; ``total_pages`` is 0 when nothing matches);
* ``offset``: ``offset=0..`` ``limit=`` → ``{"results": [...], "total": T}``;
* ``cursor``: ``cursor=`` ``limit=`` → ``{"data": {"records": [...]}, "next": "<cursor>" | null}``
  (records nested under ``data.records``; keyset cursor as on the portal);
* ``link``:   ``page=1..`` ``page_size=`` → a bare JSON array, with
  ``Link: <http://HOST/api/records?...&page=n+1>; rel="next"`` while pages remain (the
  URL repeats the request's parameters except credentials: send the key on every request).

Positional clients (``page``, ``offset``, ``link``) must advance by what they asked for
(page + 1, offset + limit), never by the number of records received: a ``shift`` fault
returns longer pages (see below).

Faults
======
``FaultSpec.parse("5xx=0.05,429=0.05,slow=0.02,truncated=0.03,drop=0.02,shift=0.02,update=0.01")``;
also ``retry_after=1`` (whole seconds), ``slow_delay=3`` (seconds), ``seed=0``. Rates add up
to at most 1: one seeded draw per eligible request picks at most one fault.

* ``5xx``: 500 (JSON), 502 or 503 (HTML, as a proxy sends) instead of the answer.
* ``429``: 429 ``{"error": "rate limited"}`` with ``Retry-After: <retry_after>``.
* ``slow``: the full, correct answer after ``slow_delay`` seconds (past a client timeout).
* ``truncated``: 200 whose body is the first half of the answer, with a Content-Length
  that matches it: the HTTP exchange succeeds, the JSON does not parse.
* ``drop``: headers with the full Content-Length, half the body, then the socket is
  closed. ``requests`` raises ``requests.exceptions.ChunkedEncodingError``
  ("Connection broken: IncompleteRead"), **not** ``ConnectionError``: retry both.
* ``shift``: the page starts 1..size-1 records early, repeating the tail of the previous
  page, as when records moved during the sync. Keyset styles (portal, ``cursor``) return
  ``size`` records and the cursor after the last; positional styles (``page``,
  ``offset``, ``link``) still end where the page should, so the page holds up to
  ``size - 1`` extra records. No record is skipped; dedupe by id.
* ``update``: before answering, one record changes (as ``change_records``) and moves to
  the end of the order. Keyset styles pick any record (one already served comes again
  later in the sync); positional styles pick one at or after the requested page's start,
  so no other record slides back into a page already served.

No fault loses or corrupts stored data: a client that retries transient errors (5xx,
429, timeouts, broken connections, unparsable bodies) and dedupes by id gets every record.

Counters (on ``system``, i.e. ``RunningServer.system``): ``requests`` (every request),
``path_counts`` (per path), ``fault_counts`` (per fault injected), ``records_served``
(records put into 200 answers, truncated or dropped ones included).
``RunningServer`` has ``url`` (``http://127.0.0.1:PORT``), ``endpoint`` (url + data path),
``system`` and ``stop()`` (also on leaving a ``with`` block; it cuts slow answers short).

Modules
=======
``faults`` (FaultSpec), ``values`` (times, numbers, labels), ``protocol`` (replies, windows,
cursors), ``source`` (loading a world source), ``system`` (SimulatedSystem), ``portal``
(PortalServer), ``rest`` (RestServer), ``transport`` (HTTP handler and server), ``running``
(``serve``, ``build_system``, ``serve_system``, RunningServer), ``proxy`` (``fault_proxy``: any HTTP
source behind the transport faults; ``serve_json``: a test's little JSON source) and ``cli``
(``main``, ``proxy_main``).
"""

from sandbox.servers.running import serve

__all__ = ["serve"]
