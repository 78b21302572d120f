"""A provincial database, through a SQLAlchemy URL: a table or a query, read by keyset.

Rows are read in (watermark, primary key) order, ``batch_size`` at a time; the state
after each batch is the last (watermark, key) landed, so a sync resumes exactly after
what it committed and a later sync reads only rows whose watermark moved on.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar

import pandas as pd
import sqlalchemy as sa
from pydantic import BaseModel, Field, model_validator

from connectors.base import Batch, Connector, ConnectorError, ErrorType, MappedSourceSettings
from connectors.secrets import SecretRef, redact, resolve


class SqlSettings(MappedSourceSettings):
    """Settings of a SQL source."""

    url: str = Field(description="SQLAlchemy URL without the password, e.g. postgresql+psycopg://reader@db/sangkien")
    password: SecretRef | None = Field(None, description="The database password: env:VAR or prefect-secret:block")
    table: str | None = Field(None, description="Table (or view) to read; or give query.")
    query: str | None = Field(None, description="SELECT to read instead of a table.")
    primary_key: str = Field(description="Column that identifies a row (the record id).")
    watermark: str | None = Field(None, description="Column that grows when a row changes (time or number).")
    batch_size: int = Field(5000, ge=1, le=1_000_000, description="Rows per batch.")

    @model_validator(mode="after")
    def _one_source(self) -> SqlSettings:
        if bool(self.table) == bool(self.query):
            raise ValueError("give exactly one of table or query")
        try:
            parsed = sa.engine.make_url(self.url)
        except sa.exc.ArgumentError:
            raise ValueError(f"url {self.url!r} is not a SQLAlchemy URL (e.g. postgresql+psycopg://user@host/db)") \
                from None
        if parsed.password:
            raise ValueError("url must not hold the password; set password: env:VAR or prefect-secret:block")
        return self


def _text(value: Any, date_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.strftime(date_format)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class SqlConnector(Connector):
    """Reads a table or query in keyset order."""

    kind: ClassVar[str] = "sql"
    description: ClassVar[str] = "A provincial database through a SQLAlchemy URL (table or query, keyset reads)."
    Settings: ClassVar[type[BaseModel]] = SqlSettings
    settings: SqlSettings

    def _engine(self) -> sa.Engine:
        url = sa.engine.make_url(self.settings.url)
        if self.settings.password:
            url = url.set(password=resolve(self.settings.password, "password"))
        return sa.create_engine(url, pool_pre_ping=True)

    def _source(self, engine: sa.Engine) -> str:
        if self.settings.query:
            return f"({self.settings.query}) AS src"
        return engine.dialect.identifier_preparer.quote(self.settings.table)  # type: ignore[arg-type]  # set when query is not

    def _fail(self, exc: Exception) -> ConnectorError:
        reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
        kind = ErrorType.TRANSIENT if isinstance(exc, sa.exc.OperationalError) else ErrorType.CONFIGURATION
        return ConnectorError(redact(f"database {self.settings.url}: {reason}"), kind)

    @property
    def clock_column(self) -> str | None:
        return self.settings.watermark or super().clock_column

    def check(self) -> str:
        engine = self._engine()
        try:
            with engine.connect() as conn:
                names = list(conn.execute(sa.text(f"SELECT * FROM {self._source(engine)} LIMIT 1")).keys())
        except sa.exc.SQLAlchemyError as exc:
            raise self._fail(exc) from None
        finally:
            engine.dispose()
        needed = {*self.columns.values(), self.settings.primary_key, *filter(None, [self.settings.watermark])}
        missing = sorted(needed - set(names))
        if missing:
            raise ConnectorError(f"no column(s) {', '.join(map(repr, missing))}; the columns are "
                                 f"{', '.join(map(repr, names))}", ErrorType.CONFIGURATION)
        return f"{self.settings.table or 'the query'} is readable with every mapped column"

    def read(self, state: dict[str, Any]) -> Iterator[Batch]:
        s = self.settings
        engine = self._engine()
        quote = engine.dialect.identifier_preparer.quote
        pk, wm = quote(s.primary_key), quote(s.watermark) if s.watermark else None
        order = f"{wm}, {pk}" if wm else pk
        after = state.get("after")  # [watermark, key] of the last row landed
        read = 0
        try:
            while True:
                if after is None:
                    where, params = "", {}
                elif wm:
                    where, params = f"WHERE {wm} > :w OR ({wm} = :w AND {pk} > :k)", {"w": after[0], "k": after[1]}
                else:
                    where, params = f"WHERE {pk} > :k", {"k": after[1]}
                sql = f"SELECT * FROM {self._source(engine)} {where} ORDER BY {order} LIMIT {s.batch_size}"
                with engine.connect() as conn:
                    result = conn.execute(sa.text(sql), params)
                    names = list(result.keys())
                    rows = result.fetchall()
                if not rows:
                    return
                last = rows[-1]._mapping
                after = [last[s.watermark] if s.watermark else None, last[s.primary_key]]
                after = [_text(v, "%Y-%m-%d") if isinstance(v, (dt.date, dt.datetime)) else v for v in after]
                frame = pd.DataFrame([[_text(v, s.date_format) for v in row] for row in rows], columns=names,
                                     dtype=object)
                frame["_origin"] = [f"{s.table or 'query'}:{_text(r._mapping[s.primary_key], '%Y-%m-%d')}"
                                    for r in rows]
                read += len(rows)
                yield Batch(f"rows after {after}", rows=frame, headers=names, state={"after": after})
                if len(rows) < s.batch_size:
                    return
        except sa.exc.DBAPIError as exc:
            if not exc.connection_invalidated:
                raise self._fail(exc) from None
            reason = str(exc.orig or exc).strip().splitlines()[0]
            where = "from the start" if after is None else \
                f"after {s.primary_key} {after[1]}" + (f" ({s.watermark} {after[0]})" if s.watermark else "")
            raise ConnectorError(redact(
                f"database {s.url}: the connection to the database was lost mid-read ({reason}) after {read:,} "
                f"row(s) in this sync; those are kept, and the next sync resumes {where}"),
                ErrorType.TRANSIENT) from None
        except sa.exc.SQLAlchemyError as exc:
            raise self._fail(exc) from None
        finally:
            engine.dispose()
