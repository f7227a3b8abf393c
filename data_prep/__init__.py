"""Converters from the native releases of the IAA benchmarks to parquet that verl reads."""
