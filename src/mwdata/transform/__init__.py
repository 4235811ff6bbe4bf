"""The dbt project (staging -> intermediate -> marts, with data tests) and its runner."""

from mwdata.transform.runner import NodeResult, RunResult, build, check, run_dbt

__all__ = ["NodeResult", "RunResult", "build", "check", "run_dbt"]
