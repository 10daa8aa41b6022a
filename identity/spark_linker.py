"""Splink on Spark, with the model trained and saved on DuckDB.

A model saved on DuckDB does not load on Spark: its SQL conditions quote identifiers with double quotes, which
Spark reads as string literals (splink issue 1281), so every level would compare two constants. The Spark
linker is built from the same settings (`probabilistic.settings()`, they are data) rendered for Spark's dialect,
and the trained prior and m/u probabilities are copied into it level by level, checked against the levels'
labels so that a settings change without retraining fails loudly instead of scoring with misplaced weights."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from identity.probabilistic import MODEL_PATH, NO_PAIRS, SPLINK_COLUMNS, _edges, settings, splink_input

TRAINED = ("m_probability", "u_probability")


def spark_settings(model: dict | Path = MODEL_PATH) -> dict:
    """`settings()` for Spark with the prior and m/u of the saved `model`."""
    saved = model if isinstance(model, dict) else json.loads(Path(model).read_text())
    rendered = settings().create_settings_dict("spark")
    rendered["probability_two_random_records_match"] = saved["probability_two_random_records_match"]
    comparisons = {comparison["output_column_name"]: comparison for comparison in saved["comparisons"]}
    for comparison in rendered["comparisons"]:
        name = comparison["output_column_name"]
        trained_levels = comparisons[name]["comparison_levels"]
        if len(trained_levels) != len(comparison["comparison_levels"]):
            raise ValueError(f"the saved model's {name} comparison has {len(trained_levels)} levels, the settings "
                             f"{len(comparison['comparison_levels'])}: retrain (`python -m identity train`)")
        for level, trained in zip(comparison["comparison_levels"], trained_levels):
            if level.get("label_for_charts") != trained.get("label_for_charts"):
                raise ValueError(f"{name}: level '{level.get('label_for_charts')}' is "
                                 f"'{trained.get('label_for_charts')}' in the saved model: retrain")
            level.update({key: trained[key] for key in TRAINED if trained.get(key) is not None})
    return rendered


def spark_probabilistic_edges(spark, records: pd.DataFrame, threshold: float,
                              model: dict | Path = MODEL_PATH) -> pd.DataFrame:
    """What `probabilistic.probabilistic_edges` returns, scored by Spark (the session needs Splink's similarity
    jar: scaleout/spark_conf.py adds it)."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType
    from splink import Linker, SparkAPI

    frame = splink_input(records)
    if len(frame) < 2:
        return _edges(NO_PAIRS)
    schema = StructType([StructField("unique_id", LongType())]
                        + [StructField(column, StringType()) for column in SPLINK_COLUMNS[1:]])
    rows = spark.createDataFrame(frame.astype({"unique_id": "int64"}).to_dict("records"), schema=schema)
    db_api = SparkAPI(spark_session=spark, num_partitions_on_repartition=int(spark.conf.get("spark.sql.shuffle.partitions")))
    linker = Linker(db_api.register(rows), spark_settings(model), log_level=logging.WARNING)
    pairs = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never").as_pandas_dataframe()
    return _edges(pairs)
