"""`sangkien deploy` (ops): the Prefect deployments, the work pool, failure alerts.

flows.deploy is imported inside the command: Prefect takes seconds to import and reads its
settings then (after quiet_prefect)."""
from __future__ import annotations

import argparse
from pathlib import Path

from sangkien.cli.common import Subparsers, add_command, quiet_prefect


def cmd_deploy(args: argparse.Namespace) -> int:
    quiet_prefect()
    from flows.deploy import DEFAULT_FILE, check_webhook_url, deploy, notify_on_failure

    if args.notify_webhook:
        check_webhook_url(args.notify_webhook)
    names = deploy(Path(args.prefect_file) if args.prefect_file else DEFAULT_FILE, args.pool)
    print(f"deployed {', '.join(names)} to work pool {args.pool!r}; start a worker with "
          f"`prefect worker start --pool {args.pool}`")
    if args.notify_webhook:
        print(f"failed runs now post to the webhook (automation {notify_on_failure(args.notify_webhook)!r})")
    return 0


def register(sub: Subparsers) -> None:
    p = add_command(sub, "deploy", cmd_deploy,
                    "create the work pool if missing and deploy the flows to the Prefect server (PREFECT_API_URL)",
                    examples=("sangkien deploy", "sangkien deploy --notify-webhook https://chat.example.vn/hooks/ops"))
    p.add_argument("--prefect-file", metavar="FILE", help="default: deployments/prefect.yaml of this installation")
    p.add_argument("--pool", default="sangkien", help="process work pool (created if missing; default sangkien)")
    p.add_argument("--notify-webhook", metavar="URL", help="also post to this webhook when a run fails")
