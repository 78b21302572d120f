"""The org tree: VGCL, provinces, sector unions, districts, local sectors, zones and grassroots units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

from sandbox.generate.constants import ORG_COLUMNS
from sandbox.generate.text import fold_text
from sandbox.generate.vocab import (
    _ADMIN_OFFICES,
    _BANKS,
    _BRAND_FIRST,
    _CITY_CODES,
    _COMPANY_FORMS,
    _COOP_KINDS,
    _GRASSROOTS_PREFIX,
    _HOSPITAL_SPECIALTIES,
    _INDUSTRIES,
    _LOCAL_SECTORS,
    _NAMESAKES,
    _PLACE_FIRST,
    _PLACE_SECOND,
    _PRESCHOOL_NAMES,
    _PROVINCE_WEIGHT,
    _PROVINCIAL_TYPES,
    _REAL_DISTRICTS,
    _SCHOOL_LEVELS,
    _SECTOR_FILLERS,
    _SECTOR_UNITS,
    _SECTOR_WEIGHT,
    _TYPE_FIELDS,
    _TYPE_SECTOR_PARENT,
    _ZONE_PROVINCES,
)

_T = TypeVar("_T")

_MIN_GRASSROOTS, _MAX_GRASSROOTS, _INITIATIVES_PER_UNIT = 150, 25_000, 40


class _Draw:
    """Fast scalar draws for the org tree, from a numpy generator via buffered uniforms."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._buf = rng.random(4096)
        self._pos = 0

    def uniform(self) -> float:
        if self._pos == len(self._buf):
            self._buf, self._pos = self._rng.random(4096), 0
        self._pos += 1
        return float(self._buf[self._pos - 1])

    def chance(self, p: float) -> bool:
        return self.uniform() < p

    def pick(self, items: Sequence[_T]) -> _T:
        return items[int(self.uniform() * len(items))]

    def weighted(self, pairs: Sequence[tuple[_T, float]]) -> _T:
        u = self.uniform() * sum(w for _, w in pairs)
        for item, w in pairs:
            u -= w
            if u < 0:
                return item
        return pairs[-1][0]

    def integer(self, low: int, high: int) -> int:
        """Uniform integer in [low, high]."""
        return low + int(self.uniform() * (high - low + 1))


@dataclass
class _OrgTree:
    orgs: pd.DataFrame          # rows of orgs.csv
    grassroots: pd.DataFrame    # one row per grassroots unit: code, name, alias, parent, sector_parent, province,
                                # region, field (primary field index), weight
    ancestors: list[tuple[str, ...]]  # per grassroots unit: every quota-bearing ancestor, each once
    quota_units: list[str]      # codes that get quotas, in orgs.csv order


def _place_pool(draw: _Draw, reserved: set[str]) -> list[str]:
    """Shuffled place names, distinct after folding, none equal to a reserved (folded) name."""
    seen = set(reserved)
    pool: list[str] = []
    for first in _PLACE_FIRST:
        for second in _PLACE_SECOND:
            name = f"{first} {second}"
            key = fold_text(name)
            if first != second and key not in seen:
                seen.add(key)
                pool.append(name)
    order = np.argsort([draw.uniform() for _ in pool], kind="stable")
    return [pool[i] for i in order]


def _short_label(label: str) -> str:
    for prefix in ("thành phố ", "thị xã ", "quận ", "huyện "):
        if label.startswith(prefix):
            return label[len(prefix):]
    return label


def _allocate(total: int, weights: Sequence[float], minimum: Sequence[int]) -> list[int]:
    """Split ``total`` proportionally to ``weights`` (largest remainder), each share at least its minimum."""
    base = list(minimum)
    rest = total - sum(base)
    if rest <= 0:
        return base
    w = np.asarray(weights, dtype=float)
    exact = rest * w / w.sum()
    shares = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - shares), kind="stable")[: rest - int(shares.sum())]:
        shares[i] += 1
    return [b + int(s) for b, s in zip(base, shares)]


class _OrgBuilder:
    """Builds the org tree one unit at a time (at most ~25,000 grassroots units)."""

    def __init__(self, draw: _Draw, provinces: pd.DataFrame, sectors: pd.DataFrame) -> None:
        self.draw = draw
        self.provinces = provinces
        self.sectors = sectors
        self.rows: list[dict[str, str]] = []
        self.quota_units: list[str] = []
        self.grassroots: list[dict[str, object]] = []
        reserved = {fold_text(_short_label(d)) for ds in _REAL_DISTRICTS.values() for d in ds}
        reserved |= {fold_text(n) for n in provinces["name_vi"]}
        self.district_pool = _place_pool(draw, reserved)
        self.commune_pool = _place_pool(draw, set())
        self.brands = [f"{a} {b}" for a in _BRAND_FIRST for b in _BRAND_FIRST if a != b]
        self.province_list = list(zip(provinces["code"], provinces["name_vi"], provinces["region"]))

    def add(self, code: str, name: str, kind: str, parent: str = "", sector_parent: str = "",
            aliases: Sequence[str] = (), valid_from: str = "", valid_to: str = "", quota: bool = False) -> None:
        self.rows.append({"code": code, "name": name, "kind": kind, "parent_code": parent,
                          "sector_parent_code": sector_parent, "valid_from": valid_from, "valid_to": valid_to,
                          "aliases": "|".join(aliases)})
        if quota:
            self.quota_units.append(code)

    def build(self, n_grassroots: int) -> _OrgTree:
        self.add("VGCL", "Tổng Liên đoàn Lao động Việt Nam", "national",
                 aliases=("Tổng LĐLĐ Việt Nam", "Tổng Liên đoàn"), quota=True)
        for p in self.provinces.itertuples():
            label = "thành phố" if p.code in _CITY_CODES else "tỉnh"
            aliases = [f"Liên đoàn Lao động {label} {p.name_vi}", p.name_vi]
            if p.code in _CITY_CODES:
                aliases.append(f"TP. {p.name_vi}")
            self.add(f"P{p.code}", f"LĐLĐ {label} {p.name_vi}", "province", "VGCL", aliases=aliases, quota=True)
        for s in self.sectors.itertuples():
            aliases = [s.name_vi.removesuffix(" Việt Nam")] if s.name_vi.endswith(" Việt Nam") else []
            self.add(s.code, s.name_vi, s.kind, "VGCL", aliases=aliases, quota=True)

        n_direct = max(len(self.sectors), round(0.10 * n_grassroots))
        codes = list(self.provinces["code"])
        minimum = [3 if c in ("01", "34") else 2 if c in ("79", "48") else 1 for c in codes]
        per_province = _allocate(n_grassroots - n_direct, [_PROVINCE_WEIGHT.get(c, 1.0) for c in codes], minimum)
        for p, units in zip(self.provinces.itertuples(), per_province):
            self._province(str(p.code), str(p.name_vi), str(p.region), units)
        sector_codes = list(self.sectors["code"])
        per_sector = _allocate(n_direct, [_SECTOR_WEIGHT.get(c, 1.0) for c in sector_codes], [1] * len(sector_codes))
        for code, units in zip(sector_codes, per_sector):
            for _ in range(units):
                self._sector_unit(code)
        return self._finish()

    # -- provinces ---------------------------------------------------------
    def _districts(self, pcode: str, pname: str, units: int) -> list[str]:
        if pcode in _REAL_DISTRICTS:
            real = _REAL_DISTRICTS[pcode]
            return real[: min(len(real), max(3, units // 4))]
        count = min(self.draw.integer(7, 12), max(3, units // 4))
        city = pcode in _CITY_CODES
        labels = [f"quận {self.district_pool.pop()}" if city else f"thành phố {pname}"]
        for i in range(1, count):
            place = self.district_pool.pop()
            if city and i < count * 0.4:
                labels.append(f"quận {place}")
            else:
                labels.append(f"thị xã {place}" if self.draw.chance(0.15) else f"huyện {place}")
        return labels

    def _province(self, code: str, pname: str, region: str, units: int) -> None:
        draw = self.draw
        pc = f"P{code}"
        districts = self._districts(code, pname, units)
        for i, label in enumerate(districts, 1):
            self.add(f"{pc}-D{i:02d}", f"LĐLĐ {label}", "district", pc,
                     aliases=(f"Liên đoàn Lao động {label}",), quota=True)
        wanted = list({"34": ["YTE"], "01": ["GD", "YTE"]}.get(code, []))
        n_local = 1 + (units >= 20) + (units >= 80)
        while len(wanted) < n_local:
            choice = draw.weighted([("YTE", 3), ("GD", 3), ("CT", 1), ("XD", 1), ("NN", 1), ("GTVT", 1)])
            if choice not in wanted:
                wanted.append(choice)
        for suffix in wanted:
            part = _LOCAL_SECTORS[suffix][0]
            self.add(f"{pc}-{suffix}", f"Công đoàn ngành {part} {pname}", "local_sector", pc,
                     aliases=(f"CĐ ngành {part} {pname}",), quota=True)
        zones: list[str] = []
        if code in _ZONE_PROVINCES or draw.chance(0.2):
            zones.append(f"{pc}-KCN1")
            self.add(zones[-1], f"Công đoàn các Khu công nghiệp {pname}", "zone", pc,
                     aliases=(f"CĐ các KCN {pname}",), quota=True)
            if units >= 120 and code in ("01", "79"):
                zones.append(f"{pc}-KCN2")
                self.add(zones[-1], f"Công đoàn Khu công nghệ cao {pname}", "zone", pc,
                         aliases=(f"CĐ Khu CNC {pname}",), quota=True)
        ctx = _ProvinceContext(code=pc, name=pname, region=region,
                               districts=[f"{pc}-D{i:02d}" for i in range(1, len(districts) + 1)],
                               district_labels=districts, local=wanted, zones=zones)
        for j in range(units):
            forced = None
            if pc == "P01" and j == 0:
                forced = ("bank", f"{pc}-D03")
            elif pc == "P34" and j < 2:
                forced = ("health", f"{pc}-YTE")
            self._provincial_unit(ctx, forced)

    def _provincial_unit(self, ctx: _ProvinceContext, forced: tuple[str, str] | None) -> None:
        draw = self.draw
        kind = forced[0] if forced else draw.weighted(_PROVINCIAL_TYPES)
        d_index = int(draw.uniform() * len(ctx.districts))
        if forced and forced[1] in ctx.districts:
            d_index = ctx.districts.index(forced[1])
        district, label = ctx.districts[d_index], ctx.district_labels[d_index]
        short = _short_label(label)
        parent, local = district, ""
        if kind == "school" and "GD" in ctx.local and draw.chance(0.6):
            parent = f"{ctx.code}-GD"
        elif kind == "health" and "YTE" in ctx.local and draw.chance(0.7):
            parent = f"{ctx.code}-YTE"
        elif kind == "company":
            other = [s for s in ctx.local if s in ("CT", "XD", "NN", "GTVT")]
            if ctx.zones and draw.chance(0.55):
                parent = draw.pick(ctx.zones)
            elif other and draw.chance(0.3):
                local = draw.pick(other)
                parent = f"{ctx.code}-{local}"
        elif kind == "coop" and "NN" in ctx.local and draw.chance(0.5):
            parent = f"{ctx.code}-NN"
        if forced:
            parent = forced[1]
        entity, alias = self._provincial_entity(kind, label, short, ctx, local)
        field = draw.weighted(_TYPE_FIELDS[kind])
        self._add_grassroots(entity, alias, parent, _TYPE_SECTOR_PARENT.get(kind, ""), ctx.code, ctx.region, field)

    def _provincial_entity(self, kind: str, label: str, short: str, ctx: _ProvinceContext,
                           local: str) -> tuple[str, str | None]:
        """Name of the workplace (without "Công đoàn cơ sở") and maybe a short alias."""
        draw = self.draw
        commune = draw.pick(self.commune_pool)
        if kind == "school":
            level, abbr = draw.pick(_SCHOOL_LEVELS)
            namesake = draw.pick(_PRESCHOOL_NAMES if abbr == "MN" and draw.chance(0.5) else
                                 _NAMESAKES if draw.chance(0.7) else (commune,))
            alias = f"CĐ {abbr} {namesake} {short}" if draw.chance(0.35) else None
            return f"{level} {namesake} {label}", alias
        if kind == "health":
            u = draw.uniform()
            if u < 0.5:
                unit = "phường" if label.startswith(("quận", "Quận")) else draw.pick(("xã", "xã", "thị trấn"))
                return f"Trạm Y tế {unit} {commune} {label}", None
            if u < 0.7:
                return f"Trung tâm Y tế {label}", (f"CĐ TTYT {short}" if draw.chance(0.5) else None)
            if u < 0.85:
                return f"Bệnh viện Đa khoa {short}", (f"CĐ BVĐK {short}" if draw.chance(0.5) else None)
            return f"Bệnh viện {draw.pick(_HOSPITAL_SPECIALTIES)} {ctx.name}", None
        if kind == "admin":
            u = draw.uniform()
            if u < 0.6:
                unit = "phường" if label.startswith(("quận", "Quận")) else "xã"
                return f"Ủy ban nhân dân {unit} {commune} {label}", (
                    f"CĐ UBND {unit} {commune}" if draw.chance(0.3) else None)
            if u < 0.85:
                return f"Phòng {draw.pick(_ADMIN_OFFICES)} {label}", None
            return f"Chi cục Thuế {short}", None
        if kind == "company":
            brand = draw.pick(self.brands)
            industry = draw.pick(_INDUSTRIES[local])
            return (f"Công ty {draw.pick(_COMPANY_FORMS)} {industry} {brand}",
                    f"CĐ Công ty {industry} {brand}" if draw.chance(0.4) else None)
        if kind == "bank":
            full, abbr = draw.pick(_BANKS)
            return f"{full} - Chi nhánh {short}", f"CĐ {abbr} {short}" if draw.chance(0.6) else None
        if kind == "post":
            return f"Bưu điện {label}", None
        if kind == "power":
            return f"Điện lực {short}", None
        if kind == "trade":
            return f"Công ty Cổ phần Thương mại {draw.pick(self.brands)}", None
        return f"Hợp tác xã {draw.pick(_COOP_KINDS)} {commune}", None

    # -- sector units ------------------------------------------------------
    def _sector_unit(self, sector: str) -> None:
        draw = self.draw
        templates, fields = _SECTOR_UNITS.get(sector, (("Công ty {brand}",), ((6, 1.0),)))
        code, name, region = draw.pick(self.province_list)
        values = {
            "prov": name, "prov_full": f"{'thành phố' if code in _CITY_CODES else 'tỉnh'} {name}",
            "brand": draw.pick(self.brands), "place": draw.pick(self.commune_pool), "n": str(draw.integer(1, 12)),
            "n3": str(draw.integer(111, 199)), "bank": draw.pick(_BANKS)[0],
        }
        values |= {k: draw.pick(v) for k, v in _SECTOR_FILLERS.items()}
        entity = draw.pick(templates).format(**values)
        alias = f"CĐ {entity}" if draw.chance(0.2) else None
        self._add_grassroots(entity, alias, sector, "", "", region, draw.weighted(fields))

    def _add_grassroots(self, entity: str, alias: str | None, parent: str, sector_parent: str, province: str,
                        region: str, field: int) -> None:
        self.grassroots.append({"entity": entity, "alias": alias, "parent": parent, "sector_parent": sector_parent,
                                "province": province, "region": region, "field": field})

    # -- finishing ---------------------------------------------------------
    def _finish(self) -> _OrgTree:
        draw = self.draw
        taken: set[str] = {fold_text(r["name"]) for r in self.rows}
        names: list[str] = []
        for g in self.grassroots:
            name = _GRASSROOTS_PREFIX + str(g["entity"])
            key, k = fold_text(name), 1
            while key in taken:
                k += 1
                key = fold_text(f"{name} số {k}")
            if k > 1:
                name = f"{name} số {k}"
                g["entity"] = f"{g['entity']} số {k}"
            taken.add(key)
            names.append(name)
        # An alias must not name another unit, nor be shared.
        alias_keys = [fold_text(str(g["alias"])) if g["alias"] else "" for g in self.grassroots]
        counts: dict[str, int] = {}
        for a in alias_keys:
            if a:
                counts[a] = counts.get(a, 0) + 1
        codes, aliases = [], []
        for i, (g, name) in enumerate(zip(self.grassroots, names), 1):
            code = f"G{i:06d}"
            key = alias_keys[i - 1]
            alias = str(g["alias"]) if key and counts[key] == 1 and key not in taken else ""
            valid_from = f"{draw.integer(2010, 2020)}-{draw.integer(1, 12):02d}-01" if draw.chance(0.08) else ""
            valid_to = "2024-06-30" if draw.chance(0.01) else ""
            self.add(code, name, "grassroots", str(g["parent"]), str(g["sector_parent"]),
                     (alias,) if alias else (), valid_from, valid_to)
            codes.append(code)
            aliases.append(alias)
        orgs = pd.DataFrame(self.rows, columns=list(ORG_COLUMNS))
        grassroots = pd.DataFrame({
            "code": codes, "name": names, "alias": aliases,
            "entity": [str(g["entity"]) for g in self.grassroots],
            "parent": [g["parent"] for g in self.grassroots],
            "sector_parent": [g["sector_parent"] for g in self.grassroots],
            "province": [g["province"] for g in self.grassroots],
            "region": [g["region"] for g in self.grassroots],
            "field": np.array([g["field"] for g in self.grassroots], dtype=np.int8),
        })
        parent_of = dict(zip(orgs["code"], orgs["parent_code"]))
        quota = set(self.quota_units)

        def chain(code: str) -> list[str]:
            out = []
            while code:
                if code in quota:
                    out.append(code)
                code = parent_of.get(code, "")
            return out

        ancestors = []
        for g in self.grassroots:
            found = chain(str(g["parent"])) + (chain(str(g["sector_parent"])) if g["sector_parent"] else [])
            ancestors.append(tuple(dict.fromkeys(found)))
        return _OrgTree(orgs, grassroots, ancestors, self.quota_units)


@dataclass
class _ProvinceContext:
    code: str
    name: str
    region: str
    districts: list[str]
    district_labels: list[str]
    local: list[str]
    zones: list[str]


def _grassroots_count(initiatives: int) -> int:
    return int(np.clip(round(initiatives / _INITIATIVES_PER_UNIT), _MIN_GRASSROOTS, _MAX_GRASSROOTS))
