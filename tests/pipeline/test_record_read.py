"""How a full resolution reads the records: dates as day numbers, titles after the matcher."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from sandbox.generate import generate_world
from sangkien import store
from sangkien.pipeline.resolve_records import titles_of
from sangkien.pipeline.run import run_sync
from sangkien.reference.orgs import load_orgs
from sangkien.reference.quotas import load_quotas
from sangkien.store import open_store
from sangkien.store.registry import add_connector, read_config_file

DAYS = [(dt.date(1969, 12, 31), -1), (dt.date(1970, 1, 1), 0), (dt.date(2021, 9, 30), 18_900),
        (dt.date(2024, 2, 29), 19_782), (None, None)]


def test_a_date_column_reads_as_its_day_number_and_back_on_either_database(db_url):
    engine = open_store(db_url)
    day = sa.Table("days_probe", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                   sa.Column("on", sa.Date, nullable=True))
    with engine.begin() as conn:
        day.create(conn)
        conn.execute(day.insert(), [{"id": k, "on": d} for k, (d, _) in enumerate(DAYS)])
        got = [v for (v,) in conn.execute(sa.select(store.day_number(day.c.on)).order_by(day.c.id))]
    assert got == [n for _, n in DAYS]
    back = store.dates_from_day_numbers(pd.Series(got, dtype=object))
    assert str(back.dtype) == "datetime64[us]"
    assert [None if pd.isna(v) else v.date() for v in back] == [d for d, _ in DAYS]


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    world = tmp_path_factory.mktemp("world")
    generate_world(world, 400, seed=11, noise="light")
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.db'}")
    load_orgs(engine, world / "orgs.csv")
    load_quotas(engine, world / "quotas.csv")
    for config in sorted((world / "sources").glob("*.yaml")):
        add_connector(engine, config.stem, "files", read_config_file(config))
    run_sync(engine)
    return engine


def test_each_initiative_carries_the_title_of_its_earliest_member(synced):
    """The full run reads titles only after matching; each initiative's must still be its earliest
    member's (earliest submitted, then lowest raw id), as submitted."""
    m, r, i = store.initiative_members.c, store.records.c, store.initiatives.c
    with synced.connect() as conn:
        members = pd.DataFrame(conn.execute(sa.select(m.initiative_id, m.raw_id, r.submitted_at, r.title)
                                            .join(store.records, r.raw_id == m.raw_id)).all(),
                               columns=["initiative_id", "raw_id", "submitted_at", "title"])
        kept = dict(conn.execute(sa.select(i.id, i.title)).all())
    earliest = members.sort_values(["initiative_id", "submitted_at", "raw_id"]).drop_duplicates("initiative_id")
    assert len(earliest) == len(kept) > 300
    assert (earliest["initiative_id"].map(kept) == earliest["title"]).all()
    assert (members.groupby("initiative_id").size() > 1).any()  # joined initiatives were checked too


def test_titles_are_read_in_the_order_asked_and_a_record_gone_is_named(synced):
    r = store.records.c
    with synced.connect() as conn:
        stored = dict(conn.execute(sa.select(r.raw_id, r.title)).all())
        asked = np.array(sorted(stored)[::-3], dtype=np.int64)  # descending, a subset
        assert list(titles_of(conn, asked)) == [stored[int(k)] for k in asked]
        assert len(titles_of(conn, np.empty(0, dtype=np.int64))) == 0
        with pytest.raises(RuntimeError, match=r"left the store meanwhile \(1, the first raw id 999999999\)"):
            titles_of(conn, np.r_[asked, 999_999_999])
