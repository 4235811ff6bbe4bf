"""A dbt-duckdb plugin that hands the PII key to every DuckDB connection dbt opens.

The key of the PII digests (macro `mw_hash`) must never be part of the SQL: dbt writes compiled SQL
to target/ and its logs, and a view's definition is readable by anyone who can read the catalogue.
The generated profile lists this plugin with `pii_key: "{{ env_var('DBT_ENV_SECRET_...') }}"` (dbt
scrubs such variables from its output); the plugin stores it in the session variable the macro reads.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

PII_KEY_VARIABLE = "mwdata_pii_key"


class Plugin(BasePlugin):  # type: ignore[misc]
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self._key = str(plugin_config.get("pii_key") or "")

    def _set(self, con: Any) -> None:
        if self._key:
            con.execute(f"SET VARIABLE {PII_KEY_VARIABLE} = ?", [self._key])

    def configure_connection(self, conn: Any) -> None:
        self._set(conn)

    def configure_cursor(self, cursor: Any) -> None:  # a cursor is a connection of its own
        self._set(cursor)
