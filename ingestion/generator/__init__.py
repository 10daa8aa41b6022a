"""Demo data generator: a population of true people seen through nine touchpoint systems.

`python -m ingestion.generator --customers 2000 --days 180` writes landing files under
`data/landing/<feed>/date=YYYY-MM-DD/` and the ground truth under `data/truth/` (never read by the pipeline).
"""

from ingestion.generator.writer import GeneratorConfig, generate

__all__ = ["GeneratorConfig", "generate"]
