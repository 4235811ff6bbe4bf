"""Stores: DuckDB natively (default), warehouses through dlt; raw tables, sync state and run log."""
