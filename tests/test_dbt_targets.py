"""dbt invocation folders are pruned so a scheduled deployment does not fill its disk."""

import os

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
