"""The metric layer: definitions in the dbt semantic layer, read by `registry`, computed by `query`.

`mwdata.metrics.query(con, name, grain=, by=, since=, until=, where=)` is the function of
`mwdata.metrics.query` (the module) of the same name.
"""

from mwdata.metrics.query import query, value
from mwdata.metrics.registry import Metric, MetricError, get_metric, load_registry, parameters

__all__ = ["Metric", "MetricError", "get_metric", "load_registry", "parameters", "query", "value"]
