"""`sangkien deploy`: create the work pool if missing, deploy every flow, optionally wire failure alerts.

It wraps Prefect's own commands (``prefect work-pool create``, ``prefect deploy``) so an
operator gets one-line errors, and creates, on request, a Prefect automation that posts
to a webhook when a run of these deployments fails.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import cast
from uuid import UUID

import yaml

from connectors.secrets import redact
from sangkien.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT / "deployments" / "prefect.yaml"
NOTIFY_BLOCK = "sangkien-failed-runs"
NOTIFY_AUTOMATION = "sangkien: a sync run failed"


def _prefect(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("prefect")
    command = [str(exe)] if exe.exists() else [shutil.which("prefect") or "prefect"]
    return subprocess.run([*command, "--no-prompt", *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=600)


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip(" │╭╮╰╯─") for line in (result.stdout + result.stderr).splitlines()]
    lines = [line for line in lines if line.strip()]
    return redact(lines[-1]) if lines else f"exit status {result.returncode}"


def api_url() -> str:
    """The Prefect API this machine talks to; UserError when none is configured (no temporary server)."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        raise UserError("no Prefect server is configured: start one (`prefect server start`), then "
                        "`prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api`")
    return str(url)


def deployment_names(prefect_file: Path) -> list[str]:
    """The deployment names declared in ``prefect_file``."""
    try:
        spec = yaml.safe_load(prefect_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{prefect_file}: no such file (the deployments live in deployments/prefect.yaml)") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{prefect_file}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    return [d["name"] for d in (spec or {}).get("deployments") or []]


def ensure_pool(pool: str, env: dict[str, str]) -> bool:
    """Create the process work pool ``pool`` unless it exists; True when it was created."""
    inspected = _prefect("work-pool", "inspect", pool, env=env)
    if inspected.returncode == 0:
        return False
    if not re.search(r"not found|does not exist", inspected.stdout + inspected.stderr, re.I):
        raise UserError(f"cannot reach the Prefect server at {api_url()}: {_last_line(inspected)}")
    created = _prefect("work-pool", "create", pool, "--type", "process", env=env)
    if created.returncode != 0:
        raise UserError(f"could not create the work pool {pool!r}: {_last_line(created)}")
    return True


def deploy(prefect_file: Path = DEFAULT_FILE, pool: str = "sangkien") -> list[str]:
    """Create ``pool`` if missing and deploy every deployment of ``prefect_file``; return their names."""
    names = deployment_names(prefect_file)
    url = api_url()
    env = {**os.environ, "PREFECT_API_URL": url}
    ensure_pool(pool, env)
    result = _prefect("deploy", "--all", "--prefect-file", str(prefect_file.resolve()), "--pool", pool, env=env)
    if result.returncode != 0:
        raise UserError(f"prefect deploy failed: {_last_line(result)}")
    return names


def check_webhook_url(url: str) -> None:
    """UserError unless ``url`` is an http(s) URL (checked before anything is deployed)."""
    if not re.match(r"^https?://[^/\s]+", url):
        raise UserError(f"--notify-webhook {redact(url)!r}: give an http(s) URL, e.g. https://chat.example/hooks/ops")


def notify_on_failure(webhook_url: str, flow_names: tuple[str, ...] = ("sangkien-nightly-sync",
                                                                        "sangkien-push-upward",
                                                                        "sangkien-pull-source")) -> str:
    """A webhook block and an automation that posts to it when a flow run of these flows fails.

    The webhook URL is kept in a Prefect block (a secret setting there), never printed. Returns
    the automation's name; created again (replaced) on every call.
    """
    from prefect.automations import Automation
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.types import SecretDict

    check_webhook_url(webhook_url)
    block = CustomWebhookNotificationBlock(
        name=NOTIFY_BLOCK, url="{{ url }}", method="POST", secrets=SecretDict({"url": webhook_url}),
        json_data={"text": "{{subject}}\n{{body}}", "title": "{{name}}"}, headers=None, cookies=None)
    # called from sync code, prefect's async_dispatch returns the value itself, not a coroutine
    block_id = cast(UUID, block.save(NOTIFY_BLOCK, overwrite=True))
    try:
        cast(Automation, Automation.read(name=NOTIFY_AUTOMATION)).delete()
    except ValueError:
        pass  # none yet
    Automation(
        name=NOTIFY_AUTOMATION,
        description="Posts to the ops webhook when a sangkien-sync flow run fails.",
        trigger=EventTrigger(
            expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
            match_related={"prefect.resource.role": "flow", "prefect.resource.name": list(flow_names)},
            posture=Posture.Reactive, threshold=1),
        actions=[SendNotification(
            block_document_id=block_id,
            subject="sangkien-sync: {{ flow.name }} run {{ flow_run.name }} {{ flow_run.state.name }}",
            body="Flow run {{ flow_run.name }} of {{ flow.name }} ended {{ flow_run.state.name }}: "
                 "{{ flow_run.state.message }}")],
    ).create()
    return NOTIFY_AUTOMATION

