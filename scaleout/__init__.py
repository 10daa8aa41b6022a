"""Running the same project on Apache Spark: the engine switch, the Spark configuration every process shares,
a Thrift server started from the installed pyspark, and table copies between DuckDB and Spark."""
