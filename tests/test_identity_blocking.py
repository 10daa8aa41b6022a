"""Splink's blocking keeps the pairs it scores in proportion to the records, so identity fits in memory at scale.

A key shared by a crowd (a birth date, a street name, a common name) hands Splink pairs that grow with the square
of the records: at a million customers the earlier single-column rules made ~2x10^8 pairs and ran out of 24 GiB.
"""

import json
import random

import pandas as pd
import pytest

from identity.__main__ import main
from identity.probabilistic import MODEL_PATH, _pair_count, pairs_per_blocking_rule, settings, splink_input
from ingestion.generator.people import new_person

PEOPLE = 100_000


def generated_people(count: int) -> pd.DataFrame:
    """One record per person of the demo generator's population: its names, birth dates and households."""
    rng, households = random.Random(7), []
    people = [new_person(index, rng, households, 365) for index in range(count)]
    return pd.DataFrame({
        "first_name": [p.first_name for p in people], "last_name": [p.last_name for p in people],
        "birth_date": [p.birth_date.isoformat() if p.birth_date else None for p in people],
        "street": [p.household.street for p in people], "city": [p.household.city for p in people],
        "postcode": [p.household.postcode for p in people], "email": None, "phone": None,
    })


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    return generated_people(PEOPLE)


@pytest.fixture(scope="module")
def pairs(people) -> dict[str, int]:
    return pairs_per_blocking_rule(people)


def test_every_blocking_rule_hands_splink_under_one_pair_per_record(pairs):
    crowded = {rule: round(count / PEOPLE, 2) for rule, count in pairs.items() if count > PEOPLE}
    assert not crowded, f"pairs per record by rule: {crowded}"


def test_all_blocking_rules_together_stay_under_three_pairs_per_record(pairs):
    assert 0 < sum(pairs.values()) < 3 * PEOPLE, pairs


def test_a_single_column_birth_date_rule_would_fail_the_budget(people):
    """The check can fail: the rule it replaced, on the same people, is over budget."""
    assert _pair_count(splink_input(people), 'l."birth_date" = r."birth_date"') > 2 * PEOPLE


def test_the_saved_model_blocks_as_the_settings_say():
    """Blocking is not trained: the saved model must carry the rules in `settings()`, or edits to them do nothing."""
    saved = json.loads(MODEL_PATH.read_text())["blocking_rules_to_generate_predictions"]
    assert saved == settings().get_settings("duckdb").as_dict()["blocking_rules_to_generate_predictions"]


def test_the_blocking_command_prints_pairs_per_rule(capsys):
    main(["blocking", "--records", "febrl:1"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1,000 records"
    assert len(lines) == 1 + len(settings().get_settings("duckdb").as_dict()["blocking_rules_to_generate_predictions"])
    assert all("per record" in line for line in lines[1:])
