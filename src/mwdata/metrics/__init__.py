"""The metric registry (`metrics.yml`), its query helper and its documentation generator."""

from mwdata.metrics import query
from mwdata.metrics.registry import Metric, MetricError, Part, get_metric, load_registry

__all__ = ["Metric", "MetricError", "Part", "get_metric", "load_registry", "query"]
