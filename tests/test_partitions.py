"""Landing-day partitions start where the data starts, unless CRM_START_DATE says otherwise."""

from orchestration.defs.partitions import FALLBACK_START, landing_days


def test_partitions_start_at_the_first_landing_day(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CRM_START_DATE", raising=False)
    assert landing_days().start.date().isoformat() == FALLBACK_START  # nothing landed yet
    for folder in ("pos_transactions/date=2026-03-05", "web_events/date=2026-02-01", "web_events/notes"):
        (tmp_path / "landing" / folder).mkdir(parents=True)
    assert landing_days().get_first_partition_key() == "2026-02-01"
    monkeypatch.setenv("CRM_START_DATE", "2025-12-01")
    assert landing_days().get_first_partition_key() == "2025-12-01"  # said explicitly: it wins
