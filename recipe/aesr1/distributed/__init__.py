"""Scoring at cluster scale on Ray Data: inputs -> parallel decode -> actor pool of judges -> sharded parquet."""
