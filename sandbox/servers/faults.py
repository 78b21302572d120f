"""Fault rates and settings, parsed from a spec string; one seeded draw per request picks a fault."""

from __future__ import annotations

import random
from dataclasses import dataclass, fields
from typing import ClassVar


@dataclass
class FaultSpec:
    """Fault rates (fractions of eligible requests, each in [0, 1], summing to at most 1) and settings."""

    server_error: float = 0.0   # "5xx"
    rate_limited: float = 0.0   # "429"
    slow: float = 0.0
    truncated: float = 0.0
    drop: float = 0.0
    shift: float = 0.0
    update: float = 0.0
    retry_after: int = 1        # seconds, sent in Retry-After
    slow_delay: float = 3.0     # seconds a slow answer waits
    seed: int = 0               # seeds the per-request draw

    NAMES: ClassVar[dict[str, str]] = {
        "5xx": "server_error", "429": "rate_limited", "slow": "slow", "truncated": "truncated",
        "drop": "drop", "shift": "shift", "update": "update",
    }
    SETTINGS: ClassVar[tuple[str, ...]] = ("retry_after", "slow_delay", "seed")

    def __post_init__(self) -> None:
        for name, attr in self.NAMES.items():
            rate = getattr(self, attr)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {name}={rate} is outside [0, 1]")
        if self.total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {self.total:g}; at most 1 (one fault per request)")
        if self.retry_after < 0 or self.slow_delay < 0 or self.seed < 0:
            raise ValueError("retry_after, slow_delay and seed must not be negative")

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Read ``"5xx=0.05,429=0.05,...,retry_after=1,slow_delay=3,seed=0"``; "" or "none" means no faults.

        Raises ValueError with a one-line message naming the bad item.
        """
        values: dict[str, float | int] = {}
        text = text.strip()
        if text.lower() in ("", "none"):
            return cls()
        for item in (part.strip() for part in text.split(",")):
            key, value = cls._parse_item(item)
            if key in values:
                raise ValueError(f"fault item {item!r}: given twice")
            values[key] = value
        return cls(**values)  # type: ignore[arg-type]  # per-name types: _parse_item reads retry_after and seed as int

    @classmethod
    def _parse_item(cls, item: str) -> tuple[str, float | int]:
        known = ", ".join([*cls.NAMES, *cls.SETTINGS])
        name, sep, raw = item.partition("=")
        name = name.strip().lower()
        if not sep or not name:
            raise ValueError(f"fault item {item!r}: expected name=value (names: {known})")
        if name not in cls.NAMES and name not in cls.SETTINGS:
            raise ValueError(f"fault item {item!r}: unknown name {name!r} (names: {known})")
        try:
            value = float(raw) if name not in ("retry_after", "seed") else int(raw)
        except ValueError:
            kind = "a whole number" if name in ("retry_after", "seed") else "a number"
            raise ValueError(f"fault item {item!r}: {raw.strip()!r} is not {kind}") from None
        if name in cls.NAMES and not 0.0 <= value <= 1.0:
            raise ValueError(f"fault item {item!r}: a rate must be between 0 and 1")
        if value < 0:
            raise ValueError(f"fault item {item!r}: must not be negative")
        return cls.NAMES.get(name, name), value

    @property
    def total(self) -> float:
        """The share of eligible requests that get some fault."""
        return sum(getattr(self, attr) for attr in self.NAMES.values())

    def rates(self) -> dict[str, float]:
        """Fault name ("5xx", "429", ...) -> rate."""
        return {name: getattr(self, attr) for name, attr in self.NAMES.items()}

    def draw(self, rng: random.Random) -> str | None:
        """Pick this request's fault name, or None, with one uniform draw from ``rng``."""
        if self.total <= 0:
            return None
        u, edge = rng.random(), 0.0
        for name, rate in self.rates().items():
            edge += rate
            if u < edge:
                return name
        return None

    def __str__(self) -> str:
        parts = [f"{name}={rate:g}" for name, rate in self.rates().items() if rate]
        defaults = {f.name: f.default for f in fields(self)}
        parts += [f"{name}={getattr(self, name):g}" for name in self.SETTINGS if getattr(self, name) != defaults[name]]
        return ",".join(parts) or "none"
