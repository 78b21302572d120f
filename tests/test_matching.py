"""Entity resolution: the same initiative typed differently is one; similar different ones stay two.

Records go through the real pipeline (file drop, validation, normalization, matching)
on SQLite and PostgreSQL; the clustering rules are also tested on bare arrays.
"""
from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from sandbox.generate.text import strip_diacritics
from sangkien import store
from sangkien.pipeline import match, review
from sangkien.pipeline.resolve import resolve_initiatives, status_conflicts
from sangkien.pipeline.run import run_sync
from sangkien.store.registry import add_connector, read_config_file
from sangkien.store.settings import set_setting
from tests.conftest import run_cli
from tests.pipeline.test_sync_store import counts, setup_store

TITLE = "Cải tiến quy trình chấm bài kiểm tra trực tuyến cho học sinh khối 9"
AUTHORS = "Lê Văn Cường, Phạm Thị Hoa, Đỗ Minh Tuấn"
DATES = "01/03/2022;01/02/2022;05/03/2022"  # recognized; applied; submitted


def row(rid: str, title: str = TITLE, authors: str = AUTHORS, unit: str = "G002", dates: str = DATES,
        status: str = "Hợp lệ", portal: str = "") -> str:
    return f"{rid};{portal};{title};{authors};{unit};Giáo dục;Giải pháp quản lý;{dates};{status};"


BASE = row("HN-1")
VARIANTS = {
    "NFD copy": row("NH-1", unicodedata.normalize("NFD", TITLE), unicodedata.normalize("NFD", AUTHORS)),
    "diacritics stripped": row("NH-1", strip_diacritics(TITLE).upper(), strip_diacritics(AUTHORS)),
    "authors swapped": row("NH-1", authors="Đỗ Minh Tuấn, Cường Lê Văn, Phạm Thị Hoa"),
    "co-author dropped": row("NH-1", authors="Lê Văn Cường, Phạm Thị Hoa"),
    "typo in title": row("NH-1", TITLE.replace("trực tuyến", "trực tyến")),
    "applied one day later": row("NH-1", dates="01/03/2022;02/02/2022;05/03/2022"),
    "unit typed by name": row("NH-1", unit="CĐCS Trường THCS Nguyễn Du"),
    "unit typed as the school": row("NH-1", unit="Trường THCS Nguyễn Du"),
    "typo + dropped co-author + date shift": row("NH-1", TITLE.replace("chấm", "cấhm"), "Phạm Thị Hoa, Lê Văn Cường",
                                                 dates="01/03/2022;01/02/2022;04/03/2022"),
}
# same unit, same dates, a title one character away, other people: another initiative
NEIGHBOUR = row("NH-2", TITLE.replace("khối 9", "khối 8"), "Ngô Thị Lan, Vũ Văn Hải")


def sync_sources(engine: sa.Engine, world, **sources: list[str]) -> None:  # type: ignore[no-untyped-def]
    for name, rows in sources.items():
        world.source(name, *rows)
        with engine.connect() as conn:
            known = conn.execute(sa.select(store.connectors.c.name).where(store.connectors.c.name == name)).first()
        if not known:
            add_connector(engine, name, "files", read_config_file(world.config(name)))
    _, results, _, status = run_sync(engine)
    assert status == "completed", [r.errors for r in results]
    assert sum(r.quarantined for r in results) == 0


def initiative_of(engine: sa.Engine, source: str, record_id: str) -> int:
    w, m = store.raw_records.c, store.initiative_members.c
    with engine.connect() as conn:
        return conn.execute(sa.select(m.initiative_id).join(store.raw_records, w.id == m.raw_id)
                            .where(w.source == source, w.source_record_id == record_id)).scalar_one()


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_copy_typed_differently_is_the_same_initiative(engine, world, variant):
    setup_store(engine, world)
    sync_sources(engine, world, hanoi=[BASE], nganhang=[VARIANTS[variant]])
    row_ = counts(engine, "G002")
    assert (row_["records"], row_["initiatives"]) == (2, 1), variant
    assert initiative_of(engine, "hanoi", "HN-1") == initiative_of(engine, "nganhang", "NH-1")


def test_similar_titles_by_other_people_stay_two_initiatives_and_go_to_review(engine, world):
    setup_store(engine, world)
    sync_sources(engine, world, hanoi=[BASE], nganhang=[VARIANTS["co-author dropped"], NEIGHBOUR])
    assert counts(engine, "G002")["initiatives"] == 2
    assert initiative_of(engine, "nganhang", "NH-2") != initiative_of(engine, "hanoi", "HN-1")
    with engine.connect() as conn:
        queue = review.list_reviews(conn)
    pairs = {frozenset((r["a"]["source_record_id"], r["b"]["source_record_id"])) for r in queue}
    assert frozenset(("HN-1", "NH-2")) in pairs  # unsure: a reviewer should look
    assert all(not r["model_merged"] for r in queue)


def test_explain_names_the_records_their_sources_and_the_evidence(engine, world, db_url):
    setup_store(engine, world)
    sync_sources(engine, world, hanoi=[BASE], nganhang=[VARIANTS["typo in title"]],
                 portal=[row("SK-1", authors="Lê Văn Cường, Phạm Thị Hoa")])
    iid = initiative_of(engine, "hanoi", "HN-1")
    with engine.connect() as conn:
        info = review.explain(conn, iid)
    assert {(m["source"], m["source_record_id"]) for m in info["members"]} == {
        ("hanoi", "HN-1"), ("nganhang", "NH-1"), ("portal", "SK-1")}
    text = review.format_explain(info)
    assert "hanoi:HN-1 = nganhang:NH-1" in text
    assert "title=near" in text and "authors=same" in text and "dates=all same" in text
    assert "authors=subset" in text  # the portal copy lost a co-author
    shown = run_cli("--db", db_url, "explain", str(iid))
    assert shown.returncode == 0, shown.stderr
    assert "portal:SK-1" in shown.stdout and "unit=same" in shown.stdout
    missing = run_cli("--db", db_url, "explain", "999999")
    assert missing.returncode == 2 and "no initiative 999999" in missing.stderr and "Traceback" not in missing.stderr


def test_incremental_run_keeps_ids_attaches_new_copies_and_moves_changed_records(engine, world):
    setup_store(engine, world)
    other = row("HN-9", "Sổ tay điện tử theo dõi chuyên cần của học sinh", "Trịnh Văn Long",
                dates="10/04/2022;01/04/2022;20/04/2022")
    sync_sources(engine, world, hanoi=[BASE, other])
    base_id, other_id = initiative_of(engine, "hanoi", "HN-1"), initiative_of(engine, "hanoi", "HN-9")

    sync_sources(engine, world, nganhang=[VARIANTS["co-author dropped"]])  # a new copy arrives
    with engine.connect() as conn:
        last = conn.execute(sa.select(store.sync_runs.c.id).order_by(store.sync_runs.c.id.desc())).first()
    assert initiative_of(engine, "nganhang", "NH-1") == base_id
    assert initiative_of(engine, "hanoi", "HN-1") == base_id and initiative_of(engine, "hanoi", "HN-9") == other_id
    assert counts(engine, "G002")["initiatives"] == 2 and last

    # the bank's record is corrected: it was another initiative all along
    sync_sources(engine, world, nganhang=[row("NH-1", "Ứng dụng bảng tính quản lý thư viện trường", "Hà Thu Trang",
                                              dates="12/05/2022;02/05/2022;25/05/2022")])
    moved = initiative_of(engine, "nganhang", "NH-1")
    assert moved not in (base_id, other_id)
    assert initiative_of(engine, "hanoi", "HN-1") == base_id
    assert counts(engine, "G002")["initiatives"] == 3
    with engine.connect() as conn:
        members = conn.execute(sa.select(store.initiatives.c.members).where(store.initiatives.c.id == base_id))
        assert members.scalar_one() == 1
    # a full re-resolution agrees with the incremental one, ids included
    before = {k: initiative_of(engine, *k) for k in (("hanoi", "HN-1"), ("hanoi", "HN-9"), ("nganhang", "NH-1"))}
    full = resolve_initiatives(engine, None, full=True)
    assert full.mode == "full"
    assert {k: initiative_of(engine, *k) for k in before} == before


def test_incremental_run_compares_only_the_delta(engine, world):
    setup_store(engine, world)
    sync_sources(engine, world, hanoi=[BASE])
    again = resolve_initiatives(engine, None)
    assert (again.mode, again.compared, again.pairs) == ("incremental", 0, 0)


def test_a_reviewers_decision_overrides_the_model_on_later_runs(engine, world, db_url):
    setup_store(engine, world)
    sync_sources(engine, world, hanoi=[BASE], nganhang=[NEIGHBOUR, VARIANTS["typo in title"]])
    assert initiative_of(engine, "hanoi", "HN-1") == initiative_of(engine, "nganhang", "NH-1")
    assert initiative_of(engine, "hanoi", "HN-1") != initiative_of(engine, "nganhang", "NH-2")

    # the reviewer knows better on both: NH-1 is another initiative, NH-2 the same one
    out = run_cli("--db", db_url, "review", "reject", "--records", "hanoi:HN-1", "nganhang:NH-1", "--by", "lan")
    assert out.returncode == 0, out.stderr
    with engine.connect() as conn:
        [pair] = [r for r in review.list_reviews(conn) if r["a"]["source_record_id"] == "HN-1"
                  and r["b"]["source_record_id"] == "NH-2"]
    review.decide(engine, True, pair_id=pair["id"], by="lan")
    out = run_cli("--db", db_url, "resolve")
    assert out.returncode == 0, out.stderr
    for _ in range(2):  # the decisions hold on the next run, and the one after
        assert initiative_of(engine, "hanoi", "HN-1") != initiative_of(engine, "nganhang", "NH-1")
        assert initiative_of(engine, "hanoi", "HN-1") == initiative_of(engine, "nganhang", "NH-2")
        sync_sources(engine, world, portal=[row("SK-1")])  # another copy arrives meanwhile
    resolve_initiatives(engine, None, full=True)
    assert initiative_of(engine, "hanoi", "HN-1") != initiative_of(engine, "nganhang", "NH-1")
    assert initiative_of(engine, "hanoi", "HN-1") == initiative_of(engine, "nganhang", "NH-2")
    listed = run_cli("--db", db_url, "review", "list", "--status", "all")
    assert "rejected by lan" in listed.stdout and "accepted by lan" in listed.stdout
    bad = run_cli("--db", db_url, "review", "accept", "4242")
    assert bad.returncode == 2 and "no review pair #4242" in bad.stderr


def test_status_follows_the_configured_source_priority_and_conflicts_are_listed(engine, world):
    setup_store(engine, world)
    sync_sources(engine, world, hanoi=[BASE], nganhang=[row("NH-1", status="Chờ duyệt")])
    assert counts(engine, "G002")["valid"] == 1  # no priority set: valid beats pending
    with engine.begin() as conn:
        set_setting(conn, "status_priority", "nganhang, hanoi")
    resolve_initiatives(engine, None, full=True)
    from sangkien.pipeline.rollup import roll_up

    roll_up(engine, None)
    assert (counts(engine, "G002")["valid"], counts(engine, "G002")["pending"]) == (0, 1)
    with engine.connect() as conn:
        conflicts = status_conflicts(conn)
    assert set(zip(conflicts["source"], conflicts["source_status"])) == {("hanoi", "valid"), ("nganhang", "pending")}


def test_one_weak_link_does_not_chain_two_initiatives():
    # a = b strongly, b = c barely, but a and c are clearly different: c stays out
    i, j = np.array([0, 1, 0]), np.array([1, 2, 2])
    weight = np.array([20.0, 0.5, -18.0])
    labels = match.cluster(3, i, j, weight)
    assert labels[0] == labels[1] != labels[2]
    # without the contradicting pair, the link holds
    assert len(set(match.cluster(3, i[:2], j[:2], weight[:2]))) == 1
    # a reviewer's "no" splits like a contradiction does
    labels = match.cluster(3, i[:2], j[:2], np.array([20.0, 20.0]), cannot=(np.array([0]), np.array([2])))
    assert labels[0] == labels[1] != labels[2]


def test_portal_ids_weigh_but_two_uploads_of_one_initiative_still_match():
    frame = pd.DataFrame({
        "portal_id": ["SK-1", "SK-2", "SK-3"],
        "title_folded": ["cai tien quy trinh cham bai"] * 2 + ["so hoa ho so cong doan co so"],
        "author_keys": ["cuong le van", "cuong le van", "hoa pham thi"], "unit_code": ["G002"] * 3,
        "recognized_on": ["2022-03-01"] * 3, "applied_on": ["2022-02-01"] * 3, "submitted_at": ["2022-03-05"] * 3,
    })
    # uploaded by its author and again by a union officer: two portal ids, one initiative
    res = match.resolve_frame(frame)
    assert res.labels[0] == res.labels[1] != res.labels[2]
    conflict = match.LEVELS["portal_id"].index("conflict")
    assert (res.levels["portal_id"] == conflict).all()
    same_id = frame.assign(portal_id=["SK-1", "SK-1", None])
    weights = match.resolve_frame(same_id).weight
    assert weights[0] > res.weight[0]  # one portal id is stronger evidence than two


def test_node_set_rejects_unknown_keys_in_one_line(db_url):
    out = run_cli("--db", db_url, "node", "set", "colour=blue")
    assert out.returncode == 2 and "unknown setting 'colour'" in out.stderr and "Traceback" not in out.stderr
    ok = run_cli("--db", db_url, "node", "set", "status_priority=portal,hanoi")
    assert ok.returncode == 0 and "portal, hanoi" in ok.stdout
    shown = run_cli("--db", db_url, "node", "show")
    assert "status_priority = portal, hanoi" in shown.stdout


def test_unit_names_resolve_without_their_union_prefix():
    from sangkien.reference.units import UnitResolver

    resolver = UnitResolver.from_names([("G002", "Công đoàn cơ sở Trường THCS Nguyễn Du"),
                                        ("G010", "Công đoàn cơ sở Trường Tiểu học Kim Đồng"),
                                        ("G011", "Công đoàn cơ sở Trường Tiểu học Kim Đồng")], [])
    codes, ambiguous = resolver.resolve_series(pd.Series(["CĐCS Trường THCS Nguyễn Du", "truong thcs nguyen du",
                                                          "Trường Tiểu học Kim Đồng", "G002"]))
    assert codes.tolist()[:2] == ["G002", "G002"] and codes.tolist()[3] == "G002"
    assert pd.isna(codes.iloc[2]) and ambiguous.tolist() == [False, False, True, False]


def test_hard_noise_world_counts_within_targets(engine, tmp_path: Path):
    from sandbox.generate import generate_world
    from tests.pipeline.test_truth import expected_counts, sync_generated_world

    root = tmp_path / "hard"
    generate_world(root, 5000, seed=5, noise="hard")
    rows = sync_generated_world(engine, root)
    got = {(r["unit_code"], r["phase"]): r["initiatives"] for r in rows}
    expected = {k: v.get("initiatives", 0) for k, v in expected_counts(root).items()}
    national = sum(expected[("VGCL", p)] for p in (1, 2))
    assert abs(sum(got[("VGCL", p)] for p in (1, 2)) - national) <= 0.001 * national
    big = {k: v for k, v in expected.items() if v >= 100}
    assert len(big) >= 3
    off = {k: (got.get(k, 0), v) for k, v in big.items() if abs(got.get(k, 0) - v) > 0.01 * v}
    assert not off, off
    truth = pd.read_csv(root / "truth.csv", dtype=str)
    assert truth["initiative_id"].nunique() < 0.8 * len(truth)  # the world does hold many copies


# --- nights against the match index ---------------------------------------------------------

def _partition(engine: sa.Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Members (raw_id -> initiative) and the initiatives' rows, without the run columns."""
    with engine.connect() as conn:
        members = pd.read_sql(sa.text("select raw_id, initiative_id, matched_on from initiative_members "
                                      "order by raw_id"), conn)
        rows = pd.read_sql(sa.text("select id, title, unit_code, phase, status, portal_id, applied_on, submitted_at,"
                                   " benefit_vnd, members, match_rule from initiatives order by id"), conn)
    return members, rows


def _queue(conn: sa.Connection, ids: np.ndarray) -> None:
    """What validation does for records whose outcome it decided: queue them for resolution."""
    conn.execute(store.resolve_queue.insert(), [{"raw_id": int(i)} for i in ids])


def test_nights_against_the_index_agree_with_a_full_resolution(engine, tmp_path: Path, monkeypatch):
    """Several incremental nights (new records, changed ones, one that stops being accepted, an index
    compaction) leave exactly what a full re-resolution makes: same members, ids and initiative rows."""
    from sandbox.generate import generate_world
    from sangkien.pipeline.match import index as matchindex
    from tests.pipeline.test_truth import sync_generated_world

    root = tmp_path / "nights"
    generate_world(root, 1500, seed=11, noise="hard")
    sync_generated_world(engine, root)
    w, r = store.raw_records.c, store.records.c
    with engine.begin() as conn:
        accepted = np.array(conn.execute(sa.select(w.id).where(w.outcome == "accepted").order_by(w.id)).scalars().all())
        rng = np.random.default_rng(3)
        picked = rng.choice(accepted, size=240, replace=False)
        held, changed, dropped = picked[:150], picked[150:230], picked[230:]
        conn.execute(store.raw_records.update().where(w.id.in_([int(i) for i in held])).values(outcome="held"))
    first = resolve_initiatives(engine, None, full=True)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.resolve_queue)).scalar_one() == 0
    assert first.records == len(accepted) - len(held)
    if engine.dialect.name == "sqlite":  # the full rewrite set indexes and FK checks aside: both are back
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            names = set(conn.exec_driver_sql("select name from sqlite_master where type = 'index'").scalars())
        assert {ix.name for t in (store.initiatives, store.initiative_members, store.match_links)
                for ix in t.indexes} <= names

    with engine.connect() as conn:
        cache = matchindex.cache_dir(conn)
        tokens = lambda: set(conn.execute(sa.select(store.match_index.c.token)).scalars())  # noqa: E731
        assert cache is not None and {p.name for p in cache.iterdir()} == tokens()  # every segment cached

    nothing = np.empty(0, np.int64)
    nights = [(held[:50], changed[:40], nothing), (held[50:], changed[40:], dropped[:5]), (nothing, nothing, dropped[5:])]
    for k, (arrive, change, drop) in enumerate(nights):
        # the second night rewrites the index whole; the third (records leaving, none arriving) appends to it
        monkeypatch.setattr(matchindex, "COMPACT_SHARE", 0.01 if k == 1 else 0.25)
        if k == 1:  # the cache damaged: a file cut short, one gone, one no segment names; the night reads the store
            files = sorted(cache.iterdir())
            files[0].write_bytes(files[0].read_bytes()[:100])
            files[1].unlink()
            (cache / ("0" * 32)).write_bytes(b"stale")
        with engine.begin() as conn:
            conn.execute(store.raw_records.update().where(w.id.in_([int(i) for i in arrive])).values(outcome="accepted"))
            for rid in change.tolist():  # the title gains words, the record its new content
                conn.execute(store.records.update().where(r.raw_id == rid).values(
                    title=r.title + " (bản sửa đổi lần hai)", title_folded=r.title_folded + " ban sua doi lan hai"))
                conn.execute(store.raw_records.update().where(w.id == rid).values(content_hash=f"changed-{rid}"))
            conn.execute(store.raw_records.update().where(w.id.in_([int(i) for i in drop])).values(outcome="quarantined"))
            _queue(conn, np.concatenate([arrive, change, drop]))
        before, rows_before = _partition(engine)
        night = resolve_initiatives(engine, 100 + k)
        assert night.mode == "incremental" and night.compared == len(arrive) + len(change)
        after, rows_after = _partition(engine)
        # the night's run marks exactly the initiatives whose rows it changed or added
        with engine.connect() as conn:
            marked = set(conn.execute(sa.select(store.initiatives.c.id)
                                      .where(store.initiatives.c.updated_run == 100 + k)).scalars())
        both = rows_after.merge(rows_before, on="id", how="left", suffixes=("", "_was"))
        differ = pd.Series(False, index=both.index)
        for column in rows_after.columns.drop("id"):
            x, y = both[column], both[f"{column}_was"]
            differ |= ~((x == y) | (x.isna() & y.isna()))
        assert marked == set(both.loc[differ, "id"]) and marked
        was, now = _alone(before, change), _alone(after, change)  # changed records alone in their initiative
        both = set(was) & set(now)
        assert len(both) >= (3 if len(change) else 0)
        assert {rid: now[rid] for rid in both} == {rid: was[rid] for rid in both}  # they kept their ids
        with engine.connect() as conn:
            index = matchindex.load(conn)
        assert index is not None and index.records == night.records
        assert index.segments == [2, 1, 2][k]
        with engine.connect() as conn:
            assert {p.name for p in cache.iterdir()} == tokens()  # the damaged files replaced, the stale one gone
    with engine.connect() as conn:
        gone = conn.execute(sa.select(sa.func.count()).select_from(store.initiative_members)
                            .where(store.initiative_members.c.raw_id.in_([int(i) for i in dropped]))).scalar_one()
    assert gone == 0 and night.records == len(accepted) - len(dropped)

    members, rows = _partition(engine)
    again = resolve_initiatives(engine, None, full=True)
    members_full, rows_full = _partition(engine)
    assert again.initiatives == night.initiatives
    assert _differing(members, members_full, "raw_id") == []
    assert _differing(rows, rows_full, "id") == []


def _alone(members: pd.DataFrame, raw_ids: np.ndarray) -> dict[int, int]:
    """Of ``raw_ids``, those that are their initiative's only member: raw id -> initiative id."""
    single = members[members.groupby("initiative_id")["raw_id"].transform("size") == 1]
    single = single[single["raw_id"].isin(raw_ids)]
    return dict(zip(single["raw_id"], single["initiative_id"]))


def _differing(a: pd.DataFrame, b: pd.DataFrame, key: str) -> list:
    """Keys whose rows differ between two frames (at most five, to keep a failure readable)."""
    both = a.merge(b, on=key, how="outer", indicator=True, suffixes=("", "_b"))
    differ = both["_merge"] != "both"
    for column in a.columns.drop(key):
        x, y = both[column], both[f"{column}_b"]
        differ |= ~((x == y) | (x.isna() & y.isna()))
    return both.loc[differ, key].head(5).tolist()


def test_a_store_without_an_index_resolves_in_full_then_nights_are_incremental(engine, world):
    setup_store(engine, world)
    sync_sources(engine, world, hanoi=[BASE])
    with engine.begin() as conn:  # as a store resolved before the index existed
        conn.execute(store.match_index.delete())
    sync_sources(engine, world, nganhang=[VARIANTS["authors swapped"]])
    with engine.connect() as conn:
        runs = conn.execute(sa.select(sa.func.count()).select_from(store.match_index)).scalar_one()
    assert runs == 1  # rebuilt by a full run
    assert initiative_of(engine, "nganhang", "NH-1") == initiative_of(engine, "hanoi", "HN-1")
    with engine.begin() as conn:  # as segments written before they had tokens (and cache files)
        conn.execute(store.match_index.update().values(token=None))
    sync_sources(engine, world, nganhang=[VARIANTS["authors swapped"], NEIGHBOUR])
    again = resolve_initiatives(engine, None)
    assert again.mode == "incremental"
    assert initiative_of(engine, "nganhang", "NH-2") != initiative_of(engine, "hanoi", "HN-1")


def test_records_read_in_chunks_equal_records_read_at_once(engine, world):
    """The full run reads records chunk by chunk; a chunk whose portal ids are all missing must not
    change a column's type or a value."""
    from sangkien.pipeline.resolve_records import RECORD_COLUMNS, record_query, typed

    setup_store(engine, world)
    sync_sources(engine, world, hanoi=[BASE, row("HN-2", portal="P-77"), row("HN-3", "Sáng kiến khác hẳn về thư viện số", "Trần Văn Bình")],
                 nganhang=[VARIANTS["authors swapped"], NEIGHBOUR])
    query = record_query().order_by(store.records.c.raw_id)
    with engine.connect() as conn:
        whole = typed(store.read_frame(conn, query, RECORD_COLUMNS))
        chunked = store.read_frame(conn, query, RECORD_COLUMNS, typed, chunk=2)
    assert len(whole) >= 4 and whole["portal_id"].notna().sum() == 1
    pd.testing.assert_frame_equal(chunked, whole)


@pytest.mark.parametrize("seed", range(5))
def test_grouping_by_key_orders_like_a_lexsort_even_when_keys_share_their_high_bits(seed: int) -> None:
    from sangkien.pipeline.match.blocking import grouped

    rng = np.random.default_rng(seed)
    n = 5_000
    # keys from a small range, so that many share the high bits the packed sort keeps (13 bits of position)
    keys = rng.integers(0, 1 << 16, n).astype(np.int64)
    rows = np.sort(rng.integers(0, 2_000, n)).astype(np.int64)
    k, r = grouped(keys, rows)
    order = np.lexsort((np.arange(n), keys))
    assert np.array_equal(k, keys[order]) and np.array_equal(r, rows[order])


def test_pairs_levels_and_clusters_do_not_depend_on_how_the_work_is_cut(engine, tmp_path: Path, monkeypatch):
    """A full run makes pairs, scores titles and finds vetoes in parts, to bound its memory; the parts'
    sizes must change nothing: the same candidate pairs, levels and clusters as in one piece."""
    import importlib

    from sandbox.generate import generate_world
    from sangkien.pipeline.resolve import unit_parents
    from sangkien.pipeline.resolve_records import load_records
    from tests.pipeline.test_truth import sync_generated_world

    blocking = importlib.import_module("sangkien.pipeline.match.blocking")
    compare = importlib.import_module("sangkien.pipeline.match.compare")
    cluster = importlib.import_module("sangkien.pipeline.match.cluster")
    root = tmp_path / "parts"
    generate_world(root, 800, seed=9, noise="hard")
    sync_generated_world(engine, root)
    with engine.connect() as conn:
        model, prep = match.prepare_frame(load_records(conn, title=False), match.DEFAULT_MODEL, unit_parents(conn))

    def run() -> tuple[np.ndarray, np.ndarray, pd.DataFrame, np.ndarray]:
        i, j = match.candidate_pairs(prep, model)
        levels = match.compare(prep, i, j, model)
        return i, j, levels, match.cluster(prep.n, i, j, match.weigh(levels, model), model)

    whole = run()
    monkeypatch.setattr(blocking, "_PAIR_CHUNK", 7)
    monkeypatch.setattr(compare, "COMPARE_CHUNK", 13)
    monkeypatch.setattr(compare, "TITLE_CHUNK", 5)
    monkeypatch.setattr(cluster, "_CHUNK", 11)
    cut = run()
    assert len(whole[0]) > 1000 and (whole[2]["title"] < match.LEVELS["title"].index("different")).sum() > 100
    np.testing.assert_array_equal(whole[0], cut[0])
    np.testing.assert_array_equal(whole[1], cut[1])
    pd.testing.assert_frame_equal(whole[2], cut[2])
    np.testing.assert_array_equal(whole[3], cut[3])
    assert len(set(whole[3].tolist())) < prep.n  # some records were joined
