"""The read side: what the dashboard, the report and the export show, with no UI in it.

- `snapshot`: lock-free, private, read-only copies of a DuckDB store (every connection in UTC).
- `filters`: the global filters as SQL with bound parameters.
- `queries`: the page queries, one function per dashboard page (the report reuses them).
- `charts`: the Altair chart specs both surfaces draw.
- `definitions`, `formatting`: metric definitions and number formats shown next to every number.
- `export`: the marts (and raw tables) as Parquet or CSV, read from a snapshot.

This package never imports Streamlit, `mwdata.app`, `mwdata.report`, `mwdata.ops` or the CLI
(docs/architecture.md, "Import rules").
"""
