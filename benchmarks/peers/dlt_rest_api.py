"""Peer: dlt's `rest_api` source into DuckDB, the way a data engineer would build this load without mwdata.

Declarative config: bearer auth, the server's `@odata.nextLink` followed (JSON link paginator),
`value` as the data selector, `write_disposition="merge"` on primary key `id`, Parquet loader files.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any


def run_peer(base_url: str, api_key: str, entity: str, store: Path, page_size: int = 1000) -> dict[str, Any]:
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(
        {
            "client": {
                "base_url": f"{base_url.rstrip('/')}/export/v1/records/",
                "auth": {"type": "bearer", "token": api_key},
                "paginator": {"type": "json_link", "next_url_path": "['@odata.nextLink']"},
            },
            "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
            "resources": [
                {
                    "name": entity.replace("-", "_"),
                    "endpoint": {
                        "path": entity,
                        # no $top: in OData it caps the whole result, not the page; the server's
                        # page size (1,000 here) drives the next links
                        "params": {"$orderby": "id"},
                        "data_selector": "value",
                    },
                }
            ],
        }
    )
    with tempfile.TemporaryDirectory(prefix="dlt-peer-") as tmp:
        pipeline = dlt.pipeline(
            pipeline_name="mwdata_peer",
            destination=dlt.destinations.duckdb(str(store)),
            dataset_name="raw",
            pipelines_dir=tmp,
        )
        t0 = time.perf_counter()
        pipeline.run(source, loader_file_format="parquet")
        seconds = time.perf_counter() - t0
    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    (rows,) = con.execute(f"SELECT count(*) FROM raw.{entity.replace('-', '_')}").fetchone() or (0,)
    con.close()
    return {"rows": int(rows), "seconds": seconds}
