"""`sangkien explain` and `review`: how records became initiatives, and reviewers' decisions on pairs.

The place for the matcher's commands (e.g. `sangkien match ...`): add its parser in register().
The pipeline is imported inside each command: it loads pandas and SQLAlchemy, which
`sangkien --help` and the other commands need not wait for."""
from __future__ import annotations

import argparse
import json

from sangkien.cli.common import Subparsers, add_command, add_group, open_engine
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
    p = add_command(sub, "explain", cmd_explain, "an initiative's records, their sources, and why they were joined",
                    examples=("sangkien explain 1234", "sangkien explain 1234 --format json"))
    p.add_argument("initiative_id", type=int, help="the initiative's id (`sangkien export links` lists them)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")


def _add_review(sub: Subparsers) -> None:
    rev = add_group(sub, "review", "pairs the matcher was unsure of, and reviewers' decisions",
                    examples=("sangkien review list", "sangkien review accept 17"))
    p = add_command(rev, "list", cmd_review_list, "pairs waiting for a decision (or --status accepted|rejected|all)",
                    examples=("sangkien review list", "sangkien review list --status all --limit 200"))
    p.add_argument("--status", choices=("open", "accepted", "rejected", "all"), default="open",
                   help="which pairs (default open: waiting for a decision)")
    p.add_argument("--limit", type=int, default=50, help="at most this many pairs (default 50)")
    for action, text in (("accept", "these two records are one initiative"),
                         ("reject", "these two records are different initiatives")):
        p = add_command(rev, action, cmd_review_decide, text,
                        examples=(f"sangkien review {action} 17",
                                  f"sangkien review {action} --records hanoi:HN-2022-000017 portal:1000042"))
        p.add_argument("id", type=int, nargs="?", help="the pair's number in `review list`")
        p.add_argument("--records", nargs=2, metavar="SOURCE:RECORD_ID", help="or any two records, by source and id")
        p.add_argument("--by", help="who decides (default $USER)")
        p.add_argument("--note", help="why, for whoever reads the decision later")
    p = add_command(rev, "conflicts", cmd_review_conflicts, "initiatives whose records disagree on status",
                    examples=("sangkien review conflicts",))
    p.add_argument("--limit", type=int, default=50, help="at most this many initiatives (default 50)")


def register(sub: Subparsers) -> None:
    _add_explain(sub)
    _add_review(sub)
