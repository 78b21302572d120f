"""`sangkien orgs`, `quotas`, `phases`: the reference data (the org tree, the targets, the program's phases).

The core's modules are imported inside each command: they load pandas and SQLAlchemy, which
`sangkien --help` and the other commands need not wait for."""
from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from sangkien.cli.common import Subparsers, add_command, add_group, open_engine

TOP_KINDS = ("national", "province", "national_sector", "corporation")


def _refresh_summary(args: argparse.Namespace) -> None:
    """After a load: work out again what the dashboard and the workbook read, when there are counts to read."""
    import sqlalchemy as sa

    from sangkien import store
    from sangkien.pipeline.summary import refresh

    engine = open_engine(args)
    with engine.connect() as conn:
        counted = conn.execute(sa.select(store.unit_counts.c.unit_code).limit(1)).first() is not None
    if counted:
        done = refresh(engine)
        print(f"worked out the dashboard's figures and the worklist again ({done.seconds:.1f} s)")


def cmd_orgs_load(args: argparse.Namespace) -> int:
    from sangkien.reference.orgs import load_orgs

    n = load_orgs(open_engine(args), Path(args.file))
    print(f"loaded {n} org units from {args.file}")
    _refresh_summary(args)
    return 0


def cmd_orgs_list(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from sangkien import store

    with open_engine(args).connect() as conn:
        kinds = conn.execute(sa.select(store.org_units.c.kind, sa.func.count()).group_by(store.org_units.c.kind)).all()
        top = conn.execute(sa.select(store.org_units.c.code, store.org_units.c.name, store.org_units.c.kind)
                           .where(store.org_units.c.kind.in_(TOP_KINDS))
                           .order_by(store.org_units.c.code)).all()
    if not kinds:
        print("no org tree loaded; run `sangkien orgs load FILE.csv`")
        return 0
    print(", ".join(f"{k}: {n}" for k, n in sorted(kinds)))
    for code, name, kind in top:
        print(f"{code:12} {kind:16} {name}")
    return 0


def cmd_quotas_load(args: argparse.Namespace) -> int:
    from sangkien.reference.programs import get_program
    from sangkien.reference.quotas import load_quotas

    engine = open_engine(args)
    with engine.connect() as conn:
        program = get_program(conn, args.program)
    n = load_quotas(engine, Path(args.file), program.code)
    print(f"loaded {n} quotas from {args.file} for program {program.code}")
    _refresh_summary(args)
    return 0


def cmd_phases_load(args: argparse.Namespace) -> int:
    from sangkien.reference.phases import load_phases
    from sangkien.reference.programs import get_program

    engine = open_engine(args)
    with engine.connect() as conn:
        program = get_program(conn, args.program)
    n = load_phases(engine, Path(args.file), (program.starts_on, program.ends_on), program.code)
    print(f"loaded {n} phases from {args.file} for program {program.code}")
    _refresh_summary(args)
    return 0


def cmd_phases_list(args: argparse.Namespace) -> int:
    from sangkien.reference.phases import get_phases
    from sangkien.reference.programs import get_program

    with open_engine(args).connect() as conn:
        program = get_program(conn, args.program)
        phases = get_phases(conn, program.code)
        if not phases:
            print(f"program {program.code} has no phases yet; `sangkien phases load FILE --program {program.code}`")
        for p in phases:
            print(f"phase {p.phase}: submitted {p.starts_on} to {p.ends_on}, counting initiatives applied from "
                  f"{p.counts_from} ({p.name})")
    return 0


def cmd_members_load(args: argparse.Namespace) -> int:
    from sangkien.reference.members import load_members

    n = load_members(open_engine(args), Path(args.file))
    print(f"loaded {n} member counts from {args.file} (kept with the earlier ones: a history by date)")
    _refresh_summary(args)
    return 0


def cmd_members_list(args: argparse.Namespace) -> int:
    from sangkien.reference.members import member_history

    with open_engine(args).connect() as conn:
        history = member_history(conn, args.unit)
    if history.empty:
        print("no member counts loaded; run `sangkien members load FILE.csv` (unit_code,as_of,members)"
              if args.unit is None else f"no member count for {args.unit}")
        return 0
    for r in history.itertuples():
        print(f"{r.unit_code:12} {r.as_of}  {int(r.members):>12,}")
    return 0


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2022-01-01") from None


def cmd_programs_add(args: argparse.Namespace) -> int:
    from sangkien.reference.programs import add_program

    program = add_program(open_engine(args), args.code, args.name, args.starts_on, args.ends_on)
    print(f"added program {program.code} ({program.name}), initiatives applied {program.starts_on} to "
          f"{program.ends_on}; next: `sangkien phases load FILE --program {program.code}`, then quotas")
    return 0


def cmd_programs_edit(args: argparse.Namespace) -> int:
    from sangkien.reference.programs import edit_program

    p = edit_program(open_engine(args), args.code, args.name, args.starts_on, args.ends_on)
    print(f"program {p.code} ({p.name}): initiatives applied {p.starts_on} to {p.ends_on}")
    return 0


def cmd_programs_default(args: argparse.Namespace) -> int:
    from sangkien.pipeline.revalidate import make_default
    from sangkien.reference.programs import get_program

    engine = open_engine(args)
    if args.code is None:
        with engine.connect() as conn:
            p = get_program(conn, None)
        print(f"default program: {p.code} ({p.name}); the nightly sync validates and counts by its phases")
        return 0
    p, done = make_default(engine, args.code)
    if done is None:
        print(f"{p.code} is the default program already; nothing changed")
        return 0
    print(f"default program: {p.code} ({p.name}); the nightly sync validates and counts by its phases, and "
          "report, reconcile, the workbook, the page and the push use it unless told otherwise")
    print(f"validated {done.released} landed row(s) again by its phases: {done.accepted} accepted, "
          f"{done.ineligible} ineligible, {done.quarantined} quarantined"
          + (f" (sources no longer registered, left as they were: {', '.join(done.skipped_sources)})"
             if done.skipped_sources else ""))
    return 0


def cmd_programs_list(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from sangkien import store
    from sangkien.reference.phases import get_phases
    from sangkien.reference.programs import list_programs

    with open_engine(args).connect() as conn:
        quotas = dict(conn.execute(sa.select(store.quotas.c.program, sa.func.count())
                                   .group_by(store.quotas.c.program)).tuples().all())
        for p in list_programs(conn):
            default = " (default: the nightly sync counts it; `sangkien programs default CODE` changes it)" \
                if p.is_default else ""
            print(f"{p.code:12} {p.starts_on} to {p.ends_on}  {len(get_phases(conn, p.code))} phases, "
                  f"{quotas.get(p.code, 0)} quotas  {p.name}{default}")
    return 0


def cmd_programs_show(args: argparse.Namespace) -> int:
    from sangkien.reference.phases import get_phases
    from sangkien.reference.programs import get_program

    with open_engine(args).connect() as conn:
        p = get_program(conn, args.code)
        print(f"program {p.code}: {p.name}")
        print(f"counts initiatives applied {p.starts_on} to {p.ends_on}" + (" (the default program)"
                                                                           if p.is_default else ""))
        for phase in get_phases(conn, p.code):
            print(f"  phase {phase.phase}: submitted {phase.starts_on} to {phase.ends_on}, applied from "
                  f"{phase.counts_from} ({phase.name})")
    return 0


def cmd_clusters_load(args: argparse.Namespace) -> int:
    from sangkien.reference.clusters import load_clusters

    n = load_clusters(open_engine(args), Path(args.file))
    print(f"loaded {n} cluster memberships from {args.file}")
    _refresh_summary(args)
    return 0


def cmd_clusters_list(args: argparse.Namespace) -> int:
    from sangkien.reference.clusters import clusters_frame

    with open_engine(args).connect() as conn:
        frame = clusters_frame(conn)
    if frame.empty:
        print("no competition clusters loaded; run `sangkien clusters load FILE.csv` "
              "(cluster_code,name,unit_code,valid_from,valid_to)")
        return 0
    for (code, name), group in frame.groupby(["cluster_code", "name"], sort=True):
        print(f"{code:12} {name}: {', '.join(group['unit_code'])}")
    return 0


def register(sub: Subparsers) -> None:
    orgs = add_group(sub, "orgs", "the union org tree", examples=("sangkien orgs load orgs.csv", "sangkien orgs list"))
    p = add_command(orgs, "load", cmd_orgs_load,
                    "replace the org tree with a CSV file (rejected whole if a line is bad)",
                    examples=("sangkien orgs load orgs.csv",))
    p.add_argument("file", help="code,name,kind,parent_code,sector_parent_code,valid_from,valid_to,aliases"
                                "[,successor_code]")
    add_command(orgs, "list", cmd_orgs_list, "counts by kind and the top-level units", examples=("sangkien orgs list",))

    quotas = add_group(sub, "quotas", "targets per unit and phase", examples=("sangkien quotas load quotas.csv",))
    p = add_command(quotas, "load", cmd_quotas_load, "replace the quotas with a CSV file",
                    examples=("sangkien quotas load quotas.csv",))

    p.add_argument("file", help="unit_code,phase,target[,basis][,assigned_by] (basis defaults to valid, "
                                "assigned_by to the unit's parent; several assigners may set a unit's target)")
    p.add_argument("--program", help="the program whose quotas these are (default: the default program)")

    members = add_group(sub, "members", "member counts per unit, dated",
                        examples=("sangkien members load members.csv", "sangkien members list --unit P34-YTE"))
    p = add_command(members, "load", cmd_members_load, "add dated member counts (rejected whole if a line is bad)",
                    examples=("sangkien members load members.csv",))
    p.add_argument("file", help="unit_code,as_of,members")
    p = add_command(members, "list", cmd_members_list, "the member counts kept, by unit and date",
                    examples=("sangkien members list", "sangkien members list --unit P34-YTE"))
    p.add_argument("--unit", help="one unit's history")

    programs = add_group(sub, "programs", "programs: a code, a name, a window, their phases and quotas",
                         examples=("sangkien programs list", "sangkien programs show 1trieu"))
    p = add_command(programs, "add", cmd_programs_add, "add a program (then load its phases and quotas)",
                    examples=('sangkien programs add VC-2022 --name "Thi đua 2022, CĐ Viên chức" '
                              "--starts-on 2022-01-01 --ends-on 2022-12-31",))
    p.add_argument("code", help="a short code: letters, digits, '-', '_', '.'")
    p.add_argument("--name", required=True, help="the program's name")
    p.add_argument("--starts-on", type=_day, required=True, metavar="YYYY-MM-DD",
                   help="initiatives applied from this day count")
    p.add_argument("--ends-on", type=_day, required=True, metavar="YYYY-MM-DD", help="... to this day")
    p = add_command(programs, "edit", cmd_programs_edit, "rename a program or move its window",
                    examples=("sangkien programs edit 1trieu --ends-on 2023-09-30",))
    p.add_argument("code", help="the program")
    p.add_argument("--name", help="its new name")
    p.add_argument("--starts-on", type=_day, metavar="YYYY-MM-DD", help="its window's new first day")
    p.add_argument("--ends-on", type=_day, metavar="YYYY-MM-DD", help="its window's new last day")
    p = add_command(programs, "default", cmd_programs_default,
                    "show or set the node's default program: the one the nightly sync validates and counts by, "
                    "and every command uses unless given --program (setting it validates every landed row again)",
                    examples=("sangkien programs default", "sangkien programs default VC-2022"))
    p.add_argument("code", nargs="?", help="the program to make the default (omit to show the current one)")
    add_command(programs, "list", cmd_programs_list, "every program, its window, phases and quotas",
                examples=("sangkien programs list",))
    p = add_command(programs, "show", cmd_programs_show, "one program and its phases",
                    examples=("sangkien programs show 1trieu",))
    p.add_argument("code", nargs="?", help="the program (default: the default program)")

    clusters = add_group(sub, "clusters", "competition clusters and blocks (cụm, khối thi đua)",
                         examples=("sangkien clusters load clusters.csv", "sangkien clusters list"))
    p = add_command(clusters, "load", cmd_clusters_load, "replace the clusters with a CSV file (rejected whole if "
                    "a line is bad)", examples=("sangkien clusters load clusters.csv",))
    p.add_argument("file", help="cluster_code,name,unit_code[,valid_from][,valid_to]")
    add_command(clusters, "list", cmd_clusters_list, "each cluster and its units", examples=("sangkien clusters list",))

    phases = add_group(sub, "phases", "the program's phases", examples=("sangkien phases list",))
    p = add_command(phases, "load", cmd_phases_load, "replace the phases with a CSV file",
                    examples=("sangkien phases load phases.csv",))
    p.add_argument("file", help="phase,name,starts_on,ends_on,counts_from")
    p.add_argument("--program", help="the program whose phases these are (default: the default program); "
                                     "phases outside its window are rejected")
    p = add_command(phases, "list", cmd_phases_list, "show the phases in force", examples=("sangkien phases list",))
    p.add_argument("--program", help="the program (default: the default program)")
