"""Integrations: mwdata where its users already work (orchestrators, MCP clients).

Above `ops`, below `cli` (docs/architecture.md, "Layers and import rules"). Each integration lives in
its own module, needs its own extra and imports its SDK where it is used, so `import
mwdata.integrations` costs nothing without it:

- `mwdata.integrations.dagster` (`pip install 'mwdata[dagster]'`): Dagster assets, checks and a
  schedule, calling the same layer APIs as `mwdata run` (`ops.run`'s steps, `ops.findings`);
- `mwdata.integrations.mcp_server` (`pip install 'mwdata[mcp]'`, `mwdata mcp`): the governed metrics as
  an MCP server, read-only, through the metrics and read layers.
"""
