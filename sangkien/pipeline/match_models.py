"""The store's match models: each full run that learns one adds a version; nights reuse the latest.

A full run learns the weights again (:func:`needs_fit`) when the store has no model for
the current levels, when asked (``sangkien resolve --full --refit``), or when the records
have grown or shrunk by more than :data:`REFIT_SHARE` since the model was fitted; else it
reuses the latest, so a full run after some nights decides as the nights did.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sangkien import store
from sangkien.pipeline.match.learn import model_from_json, model_to_json
from sangkien.pipeline.match.model import CODE_SCHEME, DEFAULT_MODEL, MatchModel

REFIT_SHARE = 0.2


def latest_model(conn: Connection, base: MatchModel = DEFAULT_MODEL) -> tuple[int, MatchModel] | None:
    """(version, model) of the store's latest model fitted under the current levels, or None."""
    t = store.match_models.c
    row = conn.execute(sa.select(t.id, t.params).where(t.scheme == CODE_SCHEME).order_by(t.id.desc()).limit(1)).first()
    if row is None:
        return None
    model = model_from_json(row.params, base)
    return (int(row.id), model) if model is not None else None


def needs_fit(stored: MatchModel | None, records: int, refit: bool = False) -> bool:
    """Whether a full run over ``records`` records learns the weights again (see the module)."""
    if refit or stored is None or not stored.fitted:
        return True
    fitted = int(stored.fitted.get("records", 0))
    return abs(records - fitted) > REFIT_SHARE * max(fitted, 1)


def save_model(conn: Connection, model: MatchModel, run_id: int | None) -> int:
    """Store ``model`` as the newest version; returns its id."""
    fitted = model.fitted or {}
    result = conn.execute(store.match_models.insert().values(
        fitted_run=run_id, fitted_at=dt.datetime.now(dt.UTC), records=int(fitted.get("records", 0)),
        pairs=int(fitted.get("pairs", 0)), random_pairs=int(fitted.get("random_pairs", 0)), scheme=CODE_SCHEME,
        params=model_to_json(model)))
    key = result.inserted_primary_key
    assert key is not None, "a single-row insert has its primary key"
    return int(key[0])


def model_versions(conn: Connection) -> list[dict]:
    """Every stored model version, newest first: id, run, when, records, pairs, scheme."""
    t = store.match_models.c
    rows = conn.execute(sa.select(t.id, t.fitted_run, t.fitted_at, t.records, t.pairs, t.random_pairs, t.scheme)
                        .order_by(t.id.desc())).mappings().all()
    return [dict(r) for r in rows]
