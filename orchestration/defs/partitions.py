"""Landing-day partitions shared by every ingestion asset."""

from __future__ import annotations

from datetime import date

import dagster as dg

from ingestion.settings import get_settings

# Where partitions start when neither CRM_START_DATE nor a landing folder says: a fresh installation
FALLBACK_START = "2024-01-01"


def first_landing_day(landing_dir) -> str | None:
    """The earliest date= folder of any feed (names only: no file is opened)."""
    days = []
    for folder in landing_dir.glob("*/date=*"):
        try:
            days.append(date.fromisoformat(folder.name[5:]))
        except ValueError:
            continue
    return min(days).isoformat() if days else None


def partitions_start() -> str:
    """CRM_START_DATE when set, else the first landing day, so that the UI does not list the days before the
    data as missing. A late folder for an earlier day extends the partitions at the next code reload."""
    settings = get_settings()
    return settings.start_date or first_landing_day(settings.landing_dir) or FALLBACK_START


def landing_days() -> dg.DailyPartitionsDefinition:
    # end_offset=1: today's landing folder is a partition as soon as files arrive.
    return dg.DailyPartitionsDefinition(start_date=partitions_start(), end_offset=1)
