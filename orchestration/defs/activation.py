"""Activation assets: after each publish, every audience's treated members as a CSV for marketing tools."""

from datetime import date

import dagster as dg

from activation.exports import exports_dir, write_exports
from ingestion.settings import get_settings
from orchestration.defs.conditions import AFTER_UPSTREAM
from orchestration.defs.resources import DUCKDB_POOL
from orchestration.defs.serving import RESTRICTED_DATABASE

AUDIENCE_EXPORTS = dg.AssetKey(["activation", "audience_exports"])


# in the duckdb pool: an erasure removes the exports holding that slot, so no export can be written in between
@dg.asset(key=AUDIENCE_EXPORTS, deps=[RESTRICTED_DATABASE], group_name="activation", kinds={"csv"}, pool=DUCKDB_POOL,
          automation_condition=AFTER_UPSTREAM,
          description="data/exports/<audience>/<date>.csv: each audience's treated members (activation."
                      "audience_members without the holdout) with their email or phone, name, customer id and "
                      "offer, from the restricted publication. Folders 0700, files 0600.")
def audience_exports(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = get_settings()
    written = write_exports(settings.restricted_database, exports_dir(settings.data_dir), date.today())
    for export in written:
        context.log.info(f"audience {export.audience} ({export.channel}): {export.rows:,} to contact")
    # counts and file names only: the files hold personal data, the metadata never does
    return dg.MaterializeResult(metadata={
        "audiences": len(written),
        "rows_by_audience": dg.MetadataValue.json({e.audience: e.rows for e in written}),
        "folder": dg.MetadataValue.path(str(exports_dir(settings.data_dir))),
    })
