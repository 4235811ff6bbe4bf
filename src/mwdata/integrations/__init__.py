"""Integrations with the tools users already run mwdata from (orchestrators).

Above `ops`, below `cli` (docs/architecture.md, "Layers and import rules"): an integration calls the
same layer APIs as `mwdata run` (`ops.run`'s steps, `ops.findings`), so every tool sees one behaviour.
Each integration lives in its own module and needs its own extra:

- `mwdata.integrations.dagster` (`pip install 'mwdata[dagster]'`): Dagster assets, checks and a schedule.
"""
