"""A failed run alerts: a short JSON message to the webhook (a local HTTP server the test starts) and the same
line in data/alerts.log; a webhook that is down does not lose the alert."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest

from orchestration.defs.operations import run_failure_alert


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/crm", _Receiver.received
    server.shutdown()
    server.server_close()


@dg.op
def load_the_day():
    raise dg.Failure("[pos_transactions] rows read != passed + quarantined + suppressed on ['2026-03-01']\nsecond line")


@dg.job
def failing_job():
    load_the_day()


def _evaluate_sensor_on_a_failed_run(instance):
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert", dagster_instance=instance, dagster_run=result.dagster_run,
        dagster_event=failure).for_run_failure()
    run_failure_alert(context)
    return result.run_id


def test_a_failed_run_posts_one_message_and_logs_it(webhook, tmp_path, monkeypatch):
    url, received = webhook
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_ALERT_WEBHOOK", url)
    monkeypatch.setenv("CRM_UI_URL", "http://dagster.local:3000/")
    run_id = _evaluate_sensor_on_a_failed_run(dg.DagsterInstance.ephemeral())
    assert len(received) == 1
    content_type, message = received[0]
    assert content_type == "application/json"
    assert message["job"] == "failing_job" and message["run_id"] == run_id
    assert message["failed_step"] == "load_the_day"
    assert message["error"] == "[pos_transactions] rows read != passed + quarantined + suppressed on ['2026-03-01']"
    assert message["url"] == f"http://dagster.local:3000/runs/{run_id}"
    assert message["text"].startswith(f":red_circle: failing_job failed (run {run_id[:8]}, step load_the_day): ")
    logged = [json.loads(line) for line in (tmp_path / "alerts.log").read_text().splitlines()]
    assert logged == [message]


def test_a_webhook_that_is_down_still_leaves_the_alert_in_the_log(webhook, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_ALERT_WEBHOOK", "http://127.0.0.1:9/nothing-listens-here")
    run_id = _evaluate_sensor_on_a_failed_run(dg.DagsterInstance.ephemeral())
    (logged,) = [json.loads(line) for line in (tmp_path / "alerts.log").read_text().splitlines()]
    assert logged["run_id"] == run_id and logged["delivery_error"].startswith("webhook delivery failed:")
