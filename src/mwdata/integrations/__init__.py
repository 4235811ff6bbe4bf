"""Integrations: mwdata where its users already work (an MCP server over the metrics).

Each integration needs an optional extra (`mwdata[mcp]`) and imports its SDK where it is used, so
`import mwdata.integrations` costs nothing without it. They read through the metrics and read layers
(one definition per metric, one query per idea) and never write to the store.
"""
