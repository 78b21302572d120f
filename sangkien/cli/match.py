"""``sangkien match ...``: the match model learned from the store's own records."""

from __future__ import annotations

import argparse
import json

from sangkien.cli.common import Subparsers, add_command, add_group, open_engine


def cmd_match_model(args: argparse.Namespace) -> int:
    """Print the latest model's levels, m, u and weights (or the priors when none was learned yet)."""
    from sangkien.pipeline.match import DEFAULT_MODEL
    from sangkien.pipeline.match.learn import describe, model_to_json
    from sangkien.pipeline.match_models import latest_model, model_versions
    from sangkien.present.clock import shown

    with open_engine(args).connect() as conn:
        latest = latest_model(conn)
        versions = model_versions(conn)
    model = latest[1] if latest else DEFAULT_MODEL
    if args.format == "json":
        print(json.dumps({"version": latest[0] if latest else None, **json.loads(model_to_json(model))},
                         ensure_ascii=False, indent=1))
        return 0
    if latest:
        v = next(x for x in versions if x["id"] == latest[0])
        print(f"match model #{v['id']} (fitted by run {v['fitted_run']} at {shown(v['fitted_at'])}; "
              f"{len(versions)} version(s) stored)")
    print(describe(model))
    return 0


def cmd_match_versions(args: argparse.Namespace) -> int:
    """List every stored model version, newest first."""
    from sangkien.pipeline.match_models import model_versions
    from sangkien.present.clock import shown

    with open_engine(args).connect() as conn:
        versions = model_versions(conn)
    if not versions:
        print("no match model learned yet: `sangkien resolve --full` learns one")
    for v in versions:
        print(f"#{v['id']:<4} run {v['fitted_run']}  {shown(v['fitted_at'])}  {v['records']:,} records, "
              f"{v['pairs']:,} pairs, {v['random_pairs']:,} random pairs  [{v['scheme']}]")
    return 0


def register(sub: Subparsers) -> None:
    """``match model`` and ``match versions``."""
    group = add_group(sub, "match", "the match model: the weights learned from this store's records",
                      examples=("sangkien match model", "sangkien match versions"))
    p = add_command(group, "model", cmd_match_model, "the levels, m, u and weights of the store's latest match model",
                    examples=("sangkien match model", "sangkien match model --format json"))
    p.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json")
    add_command(group, "versions", cmd_match_versions, "every match model the store learned, newest first",
                examples=("sangkien match versions",))
