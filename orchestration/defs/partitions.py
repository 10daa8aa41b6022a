"""Landing-day partitions shared by every ingestion asset."""

from __future__ import annotations

import dagster as dg

from ingestion.settings import get_settings


def landing_days() -> dg.DailyPartitionsDefinition:
    # end_offset=1: today's landing folder is a partition as soon as files arrive.
    return dg.DailyPartitionsDefinition(start_date=get_settings().start_date, end_offset=1)
