"""Failure alerts: one short JSON message per failed run, appended to data/alerts.log and POSTed to a webhook.

The message is Slack-compatible (`text`), with the fields a tool can route on. It carries the job, run, step and
the error's first line, never row values: the pipeline's own errors name feed, file, row and rule, not data.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

WEBHOOK_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Alert:
    job: str
    run_id: str
    failed_step: str | None
    error: str
    url: str
    at: str

    @property
    def text(self) -> str:
        step = f", step {self.failed_step}" if self.failed_step else ""
        return f":red_circle: {self.job} failed (run {self.run_id[:8]}{step}): {self.error} <{self.url}|open run>"

    def payload(self) -> dict:
        return {"text": self.text, **asdict(self)}


def build_alert(job: str, run_id: str, failed_step: str | None, error: str, ui_url: str) -> Alert:
    first_line = next((line.strip() for line in (error or "").splitlines() if line.strip()), "no error message")
    return Alert(job, run_id, failed_step, first_line[:300], f"{ui_url.rstrip('/')}/runs/{run_id}",
                 datetime.now(timezone.utc).isoformat(timespec="seconds"))


def deliver(alert: Alert, log_path: Path, webhook_url: str | None) -> str | None:
    """Append the alert to the log, then POST it when a webhook is set. Returns the delivery error, if any (it is
    logged too: a broken webhook must not hide the alert)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    problem = None
    if webhook_url:
        request = urllib.request.Request(webhook_url, data=json.dumps(alert.payload()).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                response.read()
        except (urllib.error.URLError, OSError) as exc:
            problem = f"webhook delivery failed: {exc}"
    with log_path.open("a", encoding="utf-8") as log:
        log.write(json.dumps({**alert.payload(), **({"delivery_error": problem} if problem else {})}) + "\n")
    return problem
