"""dbt invocation folders are pruned so a scheduled deployment does not fill its disk; the dbt resource starts
no process but dbt's own."""

import os
import re
import subprocess
from pathlib import Path

from orchestration.defs.dbt_targets import prune_invocation_targets


def test_only_the_newest_invocation_folders_of_our_assets_are_kept(tmp_path):
    invocations = [f"{asset}-abc1234-{n:07d}" for n, asset in
                   enumerate(["dbt_staging", "dbt_marts", "dbt_after_clv", "dbt_staging", "dbt_marts"])]
    for age, name in enumerate(reversed(invocations)):  # the last in the list is the newest
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (1_000_000 - age, 1_000_000 - age))
    (tmp_path / "compiled").mkdir()  # an analyst's own `dbt build` output is not ours to delete
    (tmp_path / "partial_parse.msgpack").write_text("")

    deleted = prune_invocation_targets(tmp_path, keep=2)

    assert sorted(path.name for path in deleted) == sorted(invocations[:3])
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        invocations[3:] + ["compiled", "partial_parse.msgpack"])


def test_the_dbt_resource_knows_the_version_of_the_dbt_it_runs_without_asking_it():
    """ProjectDbtResource takes the version from the installed package instead of a `dbt --version` process at
    every step: that must be the version the executable reports."""
    from orchestration.defs.resources import ProjectDbtResource, dbt_executable

    resource = ProjectDbtResource(project_dir=str(Path(__file__).parents[1] / "dbt_project"),
                                  dbt_executable=dbt_executable())
    reported = re.search(r"(\d+\.\d+\.\d+)", subprocess.check_output([dbt_executable(), "--version"], text=True))
    assert str(resource._cli_version) == reported.group(1)
    assert resource._initialize_dbt_core_adapter([]) is None  # no in-process adapter: no metadata is fetched
