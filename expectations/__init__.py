"""Great Expectations suites per feed (`suites/<feed>.json`) and the code that runs them on a day's batch."""
