"""`sangkien explain` and `review`: how records became initiatives, and reviewers' decisions on pairs.

The place for the matcher's commands (e.g. `sangkien match ...`): add its parser in register().
The pipeline is imported inside each command: it loads pandas and SQLAlchemy, which
`sangkien --help` and the other commands need not wait for."""
from __future__ import annotations

import argparse
import json

from sangkien.cli.common import Subparsers, add_group, open_engine
from sangkien.errors import UserError


def cmd_explain(args: argparse.Namespace) -> int:
    from sangkien.pipeline import review

    with open_engine(args).connect() as conn:
        info = review.explain(conn, args.initiative_id)
    if args.format == "json":
        print(json.dumps(info, ensure_ascii=False, indent=1))
        return 0
    from sangkien.present.history import format_history

    print(review.format_explain(info))
    for member in info["members"]:
        for line in format_history(f"{member['source']}:{member['source_record_id']}",
                                   info["history"].get(member["raw_id"], [])):
            print(line)
    return 0


def cmd_review_list(args: argparse.Namespace) -> int:
    from sangkien.pipeline import review

    with open_engine(args).connect() as conn:
        print(review.format_reviews(review.list_reviews(conn, args.status, args.limit)))
    return 0


def cmd_review_decide(args: argparse.Namespace) -> int:
    from sangkien.pipeline import review

    if (args.id is None) == (args.records is None):
        raise UserError("name a queued pair by its number, or two records with --records A B")
    done = review.decide(open_engine(args), args.action == "accept", args.id,
                         tuple(args.records) if args.records else None, args.by, args.note)
    print(f"pair #{done['id']} {done['status']} by {done['by']} (was {done['was']}); it overrides the model from the "
          "next run on (`sangkien resolve` applies it now)")
    return 0


def cmd_review_conflicts(args: argparse.Namespace) -> int:
    from sangkien.pipeline.resolve import status_conflicts
    from sangkien.store.settings import get_setting

    with open_engine(args).connect() as conn:
        frame = status_conflicts(conn, args.limit)
        priority = get_setting(conn, "status_priority") or []
    if frame.empty:
        print("no initiative has records that disagree on status")
        return 0
    print(f"status priority: {', '.join(priority) if priority else '(none set: valid > pending > rejected)'}")
    for iid, group in frame.groupby("initiative_id", sort=False):
        first = group.iloc[0]
        copies = ", ".join(f"{r.source}:{r.source_record_id}={r.source_status}" for r in group.itertuples())
        print(f"initiative {iid} ({first['unit_code']}): counted as {first['status']}; {copies}")
    return 0


def _add_explain(sub: Subparsers) -> None:
    p = sub.add_parser("explain", help="an initiative's records, their sources, and why they were joined")
    p.add_argument("initiative_id", type=int)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_explain)


def _add_review(sub: Subparsers) -> None:
    rev = add_group(sub, "review", "pairs the matcher was unsure of, and reviewers' decisions")
    p = rev.add_parser("list", help="pairs waiting for a decision (or --status accepted|rejected|all)")
    p.add_argument("--status", choices=("open", "accepted", "rejected", "all"), default="open")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_review_list)
    for action, text in (("accept", "these two records are one initiative"),
                         ("reject", "these two records are different initiatives")):
        p = rev.add_parser(action, help=text)
        p.add_argument("id", type=int, nargs="?", help="the pair's number in `review list`")
        p.add_argument("--records", nargs=2, metavar="SOURCE:RECORD_ID", help="or any two records, by source and id")
        p.add_argument("--by", help="who decides (default $USER)")
        p.add_argument("--note")
        p.set_defaults(func=cmd_review_decide)
    p = rev.add_parser("conflicts", help="initiatives whose records disagree on status")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_review_conflicts)


def register(sub: Subparsers) -> None:
    _add_explain(sub)
    _add_review(sub)
