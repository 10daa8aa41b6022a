"""The benchmark's Markdown: stage table, comparisons, growth, incremental, and the targets met or missed."""

from __future__ import annotations


def _table(header: list[str], rows: list[list]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *["| " + " | ".join("" if v is None else (f"{v:,}" if isinstance(v, int) else str(v)) for v in row) + " |"
              for row in rows]]


def targets(results: dict) -> list[list]:
    main = results["main"]
    rows = []
    if main["scale"] >= 100_000:
        rows.append(["full pipeline, 100,000 customers x 365 days", "< 300 s", f"{main['pipeline_seconds']} s",
                     main["pipeline_seconds"] < 300])
    rfm = results["rfm"]
    rows.append(["RFM summary vs lifetimes", ">= 10x faster", f"{rfm['speedup_vs_lifetimes']}x",
                 rfm["speedup_vs_lifetimes"] >= 10])
    for name, figures in results["identity"].items():
        rows.append([f"identity on {name} vs recordlinkage", "F1 >= theirs at >= 5x speed",
                     f"F1 {figures['project_f1']} vs {figures['recordlinkage_f1']}, {figures['speedup']}x",
                     figures["project_f1"] >= figures["recordlinkage_f1"] and figures["speedup"] >= 5])
    for scale in sorted(results["growth"], key=lambda g: g["scale"]):  # the main run is one of them
        share = _day_share(scale)
        rows.append([f"one new day / full build, {scale['scale']:,} customers", "< 10%", f"{share:.1%}", share < 0.10])
    if "publish" in main:
        share = main["publish"]["one_day_seconds"] / main["incremental"]["total_seconds"]
        rows.append(["publish / daily run", "< 10%", f"{share:.1%}", share < 0.10])
    leads = {row["model"]: row for row in results.get("lead_scores", [])}
    chosen = next((row for row in leads.values() if row["is_chosen"]), None)
    baseline = next((row for name, row in leads.items() if name.startswith("baseline")), None)
    if chosen and baseline:
        rows.append(["lead score AUC vs one-feature baseline", "baseline + 0.1",
                     f"{chosen['auc']:.3f} vs {baseline['auc']:.3f}", chosen["auc"] >= baseline["auc"] + 0.1])
    floor = results["floor"]["pipeline_over_floor"]
    rows.append(["pipeline / DuckDB floor", "<= 10", floor, floor <= 10])
    growth = sorted(results["growth"], key=lambda g: g["scale"])
    if len(growth) > 1:
        first, last = growth[0], growth[-1]
        data_ratio = last["rows"] / first["rows"]
        memory = [next(s for s in g["stages"] if s["stage"] == "total")["peak_rss_mib"] for g in (first, last)]
        rows.append(["memory grows no faster than the data", f"<= {data_ratio:.1f}x",
                     f"{memory[1] / memory[0]:.1f}x", memory[1] / memory[0] <= data_ratio])
    return [[name, target, measured, "met" if ok else "missed"] for name, target, measured, ok in rows]


def _day_share(run: dict) -> float:
    incremental = run["incremental"]
    return incremental["total_seconds"] / incremental["full_rebuild_seconds"]


def _floor_share(run: dict) -> str | None:
    incremental = run["incremental"]
    if "nothing_new_seconds" not in incremental:
        return None  # measured before the bench ran it
    return f"{incremental['nothing_new_seconds'] / incremental['full_rebuild_seconds']:.1%}"


def _dbt_nodes(runs: list[dict]) -> list[str]:
    """Where the added day's dbt steps spend their time, per scale: models against tests, and the slowest nodes
    (each node's own seconds; two threads run side by side, so they add up to more than the step)."""
    runs = [run for run in runs if run["incremental"].get("dbt_nodes")]
    if not runs:
        return []
    lines = ["", "## The added day's dbt nodes", ""]
    for run in runs:
        for step, figures in run["incremental"]["dbt_nodes"].items():
            lines += [f"{run['scale']:,} customers, `{step}`: {figures['nodes']} nodes, models "
                      f"{figures['models_seconds']} s, tests {figures['tests_seconds']} s. Slowest: "
                      + ", ".join(f"{node['node']} {node['seconds']} s" for node in figures["slowest"]) + ".", ""]
    return lines[:-1]


def markdown(results: dict) -> str:
    main, machine = results["main"], results["machine"]
    lines = [f"# Benchmark: {main['scale']:,} customers x {main['days']} days",
             "",
             f"Run {results['started_at']} on {machine['cores']} cores, {machine['memory_gib']} GiB, "
             f"Python {machine['python']}. {main['rows']:,} landed rows, {main['customer_records']:,} customer "
             "records. Command: `make bench SCALE=" + str(main["scale"])
             + "".join(f" {knob}={results[key]}" for knob, key in (("GROWTH", "growth_scales"), ("ENGINE", "engine"))
                       if results.get(key)) + "`.",
             "", "## Stages (through Dagster)", ""]
    lines += _table(["stage", "seconds", "rows/s", "peak RSS MiB"],
                    [[s["stage"], s["seconds"], s["rows_per_second"], s["peak_rss_mib"]] for s in main["stages"]])
    inc = main["incremental"]
    lines += ["", "## Incremental", "",
              f"One new landing day (the last of the {main['days']}) into the warehouse built from the days before: "
              f"ingest {inc['one_day_ingest_seconds']} s + transform and publish {inc['transform_seconds']} s = "
              f"{inc['total_seconds']} s, {_day_share(main):.1%} of the {inc['full_rebuild_seconds']} s their full "
              "ingest, transform and publish took."]
    if "nothing_new_seconds" in inc:
        lines += ["", f"The same transform run again with nothing new landed takes {inc['nothing_new_seconds']} s, "
                  f"{inc['nothing_new_seconds'] / inc['full_rebuild_seconds']:.1%} of the full build: the part of a "
                  "day's cost that does not depend on the day's data (each model's comparison with what it built, "
                  "the models built whole, the tests over whole tables, the publish's comparisons)."]
    if "transform_stages" in inc:
        floor = "nothing_new_seconds" in inc["transform_stages"][0]
        lines += ["", *_table(["transform stage", "full build s", "after the added day s",
                               *(["nothing new s"] if floor else [])],
                              [[s["stage"], s["full_seconds"], s["one_day_seconds"],
                                *([s["nothing_new_seconds"]] if floor else [])] for s in inc["transform_stages"]])]
        lines += ["", "The day's CLV step predicts from the fit the full build made (`data/clv/fit.json`, refitted "
                  "once it is `CRM_CLV_REFIT_DAYS` days old, 7 by default): a refit day costs the full build's CLV "
                  "step instead."]
    if "publish" in main:
        pub = main["publish"]
        daily = inc["total_seconds"]
        lines += ["", "## Publish (serving databases)", "",
                  f"After the full build {pub['full_seconds']} s ({pub.get('full_mode')}); after the added day "
                  f"{pub['one_day_seconds']} s ({pub.get('one_day_mode')}: the working copies brought up to date), "
                  f"{pub['one_day_seconds'] / daily:.1%} of that day's run ({daily} s, ingest + transform + publish). "
                  f"Files: BI {pub['bi_mib']} MiB, restricted {pub['restricted_mib']} MiB (build database "
                  f"{pub['build_mib']} MiB)."]
    if "erasure" in results:
        measured = results["erasure"].get("measured_at", results.get("started_at", ""))
        lines += ["", "## Erasure (`erasure_job`, then `transform_job`: rebuild, full publish, compaction)", "",
                  f"Measured {measured}.", "",
                  *_table(["requests", "forget s", "rebuild s", "of which publish s", "of which compaction s"],
                          [[f"{e['people']} {'person' if e['people'] == 1 else 'people'} in one run",
                            e["forget_seconds"], e["rebuild_seconds"], e["publish_seconds"],
                            e["compaction_seconds"]] for k, e in results["erasure"].items() if k != "measured_at"])]
    floor = results["floor"]
    lines += ["", "## Floor", "",
              f"DuckDB alone reading every landing file once: {floor['seconds']} s for {floor['rows']:,} rows. "
              f"Pipeline (ingest + transform) / floor = {floor['pipeline_over_floor']}; the ingest alone (load + "
              f"validate, through Dagster) / floor = {floor['ingest_over_floor']}."]
    rfm = results["rfm"]
    lines += ["", "## RFM summary: the project's models vs lifetimes vs pymc-marketing", ""]
    lines += _table(["tool", "seconds", "summary is faster by"],
                   [["int_customer_rfm__summary (the summary, in DuckDB)", rfm["summary_seconds"], ""],
                    ["customer_rfm (summary + quintile scores + segments)", rfm["model_seconds"],
                     f"({rfm['model_speedup_vs_lifetimes']}x vs lifetimes)"],
                    ["lifetimes summary_data_from_transaction_data", rfm["lifetimes_seconds"],
                     f"{rfm['speedup_vs_lifetimes']}x"],
                    ["pymc_marketing rfm_summary", rfm["pymc_marketing_seconds"], f"{rfm['speedup_vs_pymc_marketing']}x"]])
    lines += ["", f"{rfm['customers']:,} customers, {rfm['purchases']:,} purchases; fastest of {rfm['runs']} runs each; "
                  "both models run as CREATE TABLE AS in the warehouse; outputs agree "
                  f"(frequency, recency, monetary per customer): {rfm['outputs_agree']}."]
    ing = results["ingestion"]
    lines += ["", f"## Ingestion: the project's loader vs pandas ({ing['feed']}, {ing['files']:,} files)", ""]
    lines += _table(["tool", "seconds", "rows"],
                    [["project loader (contract, checksums, rejects, manifest)", ing["project_seconds"], ing["rows_project"]],
                     ["pandas read_csv + DuckDB insert", ing["pandas_seconds"], ing["rows_pandas"]],
                     ["DuckDB read_csv alone", ing["duckdb_floor_seconds"], None]])
    lines += ["", "## Identity: project resolver vs recordlinkage (blocking + ECM)", ""]
    lines += _table(["data", "records", "project F1", "project P", "project s", "recordlinkage F1", "recordlinkage P",
                     "recordlinkage s", "speedup"],
                    [[name, f["records"], f["project_f1"], f["project_precision"], f["project_seconds"],
                      f["recordlinkage_f1"], f["recordlinkage_precision"], f["recordlinkage_seconds"], f["speedup"]]
                     for name, f in results["identity"].items()])
    if "affinity" in results:
        aff = results["affinity"]
        lines += ["", f"## Cross-sell: product_affinity vs mlxtend apriori ({aff['baskets']:,} baskets, category level)", ""]
        lines += _table(["tool", "seconds", "pairs"],
                        [["analytics.product_affinity (CREATE TABLE AS in the warehouse)", aff["model_seconds"],
                          aff["category_pairs"]],
                         ["mlxtend apriori + association_rules (from the baskets, one-hot)", aff["mlxtend_seconds"],
                          None]])
        lines += ["", f"Fastest of {aff['runs']} runs each; support, confidence and lift agree for every pair: "
                      f"{aff['outputs_agree']}. Top pairs by lift: "
                      + ", ".join(f"{a} + {c} ({lift})" for a, c, lift in aff["top"]) + "."]
    lift = results.get("campaign_lift", {})
    if lift.get("control_customers"):
        lines += ["", f"## Campaign lift against the holdout ({lift['campaigns']} audience campaigns, pooled)", "",
                  f"Treated {lift['treated_customers']:,} customers bought in the campaign window at "
                  f"{lift['treated_response_rate']:.2%}, the held-out {lift['control_customers']:,} at "
                  f"{lift['control_response_rate']:.2%}; revenue per member +{lift['revenue_lift_per_member']}. "
                  f"Uplift (treated - control) / (1 - control) = {lift['estimated_uplift']:.2%} against "
                  f"{lift['planted_uplift']:.2%} planted by the generator."]
    if results.get("lead_scores"):
        lines += ["", "## Lead scores (`sales.lead_score_backtest`: newest 30% of closed leads held out)", ""]
        lines += _table(["model", "AUC", "top decile predicted", "top decile actual", "test converted", "train leads",
                         "test leads", "chosen"],
                        [[row["model"], round(row["auc"], 4), f"{row['top_decile_predicted_rate']:.1%}",
                          f"{row['top_decile_actual_rate']:.1%}", f"{row['test_converted_rate']:.1%}",
                          row["train_leads"], row["test_leads"], "yes" if row["is_chosen"] else ""]
                         for row in results["lead_scores"]])
    if len(results["growth"]) > 1:
        growth = sorted(results["growth"], key=lambda g: g["scale"])
        # a stage added since a scale was measured is blank in that scale's column
        stages = list(dict.fromkeys(s["stage"] for g in growth for s in g["stages"]))
        lines += ["", "## Growth (seconds per stage)", ""]
        lines += _table(["stage", *[f"{g['scale']:,} customers" for g in growth]],
                        [[stage, *[next((s["seconds"] for s in g["stages"] if s["stage"] == stage), None)
                                   for g in growth]]
                         for stage in stages]
                        + [["peak RSS MiB", *[next(s["peak_rss_mib"] for s in g["stages"] if s["stage"] == "total")
                                              for g in growth]],
                           ["landed rows", *[g["rows"] for g in growth]],
                           ["one new day (ingest + transform + publish) s",
                            *[g["incremental"]["total_seconds"] for g in growth]],
                           ["one new day / full build", *[f"{_day_share(g):.1%}" for g in growth]],
                           ["transform with nothing new / full build",
                            *[_floor_share(g) for g in growth]]])
        published = [g for g in growth if "publish" in g]
        if published:
            lines += ["", "Publish per scale:", ""]
            lines += _table(["customers", "publish after full build s", "publish after the added day s",
                             "share of that day's run", "BI MiB", "restricted MiB", "build MiB"],
                            [[g["scale"], g["publish"]["full_seconds"], g["publish"]["one_day_seconds"],
                              f"{g['publish']['one_day_seconds'] / g['incremental']['total_seconds']:.1%}",
                              g["publish"]["bi_mib"], g["publish"]["restricted_mib"], g["publish"]["build_mib"]]
                             for g in published])
        lines += ["", "Measured: " + ", ".join(f"{g['scale']:,} customers {g.get('measured_at', results['started_at'])}"
                                              for g in growth) + "."]
    lines += _dbt_nodes(sorted(results["growth"], key=lambda g: g["scale"]))
    on_spark = sorted((g for g in results["growth"] if "engines" in g), key=lambda g: g["scale"])
    if on_spark:
        lines += ["", "## The dbt project on Spark (`make bench ENGINE=spark_local`)", "",
                  "Every seed, model and dbt test built from the same sources (`dbt build`; DuckDB with "
                  "--full-refresh), Spark's JVM start included: the overhead of Spark on one machine, not a speed-up.",
                  ""]
        lines += _table(["customers", "engine", "source rows", "copy into Spark s", "DuckDB s", "Spark s",
                         "Spark / DuckDB", "Spark rows per core-second", "DuckDB peak MiB", "Spark peak MiB"],
                        [[g["scale"], e["engine"], e["source_rows"], e["copy_seconds"], e["duckdb_seconds"],
                          e["spark_seconds"], f"{e['overhead']}x", e["spark_rows_per_core_second"],
                          e["duckdb_peak_rss_mib"], e["spark_peak_rss_mib"]]
                         for g in on_spark for e in [g["engines"]]])
    lines += ["", "## Targets", ""]
    lines += _table(["target", "goal", "measured", "status"], targets(results))
    return "\n".join(lines) + "\n"
