"""`make bench` at a tiny scale: the result files are written and every compared output agrees (times are
reported, not asserted: they belong to the benchmark, not to the tests)."""

import json

from bench.run import main


def test_bench_writes_its_results_and_the_comparisons_agree(tmp_path):
    results = main(["--scale", "300", "--days", "20", "--identity-sample", "500", "--out", str(tmp_path)])
    assert (tmp_path / "bench-300.json").exists() and (tmp_path / "latest.md").exists()
    saved = json.loads((tmp_path / "bench-300.json").read_text())
    assert saved["main"]["scale"] == 300 and saved["machine"]["cores"] >= 1
    stages = {s["stage"] for s in saved["main"]["stages"]}
    assert {"generate", "ingest: load", "ingest: validate", "resolve identities", "dbt marts", "CLV", "total"} <= stages
    incremental = {s["stage"] for s in saved["main"]["incremental"]["transform_stages"]}
    assert {"dbt staging", "resolve identities", "dbt marts", "CLV"} <= incremental
    floor = saved["main"]["incremental"]["nothing_new_seconds"]  # the same transform again, nothing new landed
    assert 0 < floor and "with nothing new landed takes" in (tmp_path / "latest.md").read_text()
    nodes = saved["main"]["incremental"]["dbt_nodes"]  # the day's own three dbt invocations, node by node
    assert set(nodes) == {"dbt_staging", "dbt_marts", "dbt_after_clv"}
    marts = nodes["dbt_marts"]
    assert marts["models_seconds"] > 0 and marts["tests_seconds"] > 0 and marts["nodes"] > len(marts["slowest"]) > 0
    assert not any(node["node"].startswith("stg_") for node in marts["slowest"])  # staging ran in its own step
    assert results["rfm"]["outputs_agree"]
    assert results["ingestion"]["rows_project"] >= results["ingestion"]["rows_pandas"] > 0
    for name, figures in results["identity"].items():
        assert figures["project_precision"] >= 0.97, name
    erasure = results["erasure"]
    assert erasure["one"]["people"] == 1 and erasure["batch"]["people"] == 100
    assert erasure["one"]["publish_mode"] == erasure["batch"]["publish_mode"] == "full"  # after an erasure
    assert erasure["one"]["compaction_seconds"] > 0 and erasure["batch"]["compaction_seconds"] > 0
    table = (tmp_path / "latest.md").read_text()
    assert "## Targets" in table and "| RFM summary vs lifetimes |" in table and "## Erasure" in table
    assert "| one new day / full build, 300 customers | < 10% |" in table  # the target, per scale
    assert isinstance(results["lead_scores"], list)
    assert results["affinity"]["outputs_agree"] and "## Cross-sell" in table
    assert results["campaign_lift"]["campaigns"] >= 1  # empty when the tiny run holds too few closed leads

    # a scale run on its own later joins the saved growth table; the main run and comparisons are kept
    added = main(["--scale", "300", "--days", "20", "--add-growth", "150", "--out", str(tmp_path)])
    assert sorted(g["scale"] for g in added["growth"]) == [150, 300]
    assert all(g["measured_at"] for g in added["growth"])  # runs of different days are dated in the table
    assert added["main"] == saved["main"] and added["rfm"] == saved["rfm"]
    assert "| stage | 150 customers | 300 customers |" in (tmp_path / "latest.md").read_text()

