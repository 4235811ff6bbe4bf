"""mwdata in Dagster (`pip install 'mwdata[dagster]'`), see docs/operations.md.

Against your tenant (MWDATA_CONFIG, or ./mwdata.toml, and the secrets in the environment):

    MWDATA_CONFIG=/etc/mwdata/mwdata.toml dagster dev -f examples/dagster_defs.py

Without a tenant: `python examples/dagster_defs.py` starts the simulator on a small generated tenant,
writes a configuration into a temporary folder and materialises every asset in process, then prints
each asset's metadata and each check's outcome.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

if __name__ != "__main__":  # loaded by `dagster dev -f` / `dagster-webserver -f`
    from mwdata.integrations.dagster import definitions

    defs = definitions()  # $MWDATA_CONFIG or ./mwdata.toml, read again at every run


def demo() -> int:
    from mwdata.integrations.dagster import JOB_NAME, definitions
    from mwdata.simulator import GeneratorConfig, SimulatorConfig, SimulatorServer, generate

    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    sim = SimulatorServer(generate(GeneratorConfig(seed=1, users=60, days=7, end=end)), SimulatorConfig())
    sim.start()
    try:
        folder = Path(tempfile.mkdtemp(prefix="mwdata-dagster-"))
        config = folder / "mwdata.toml"
        config.write_text(
            f'store = "{folder / "mwdata.duckdb"}"\n'
            f'[api]\nbase_url = "{sim.base_url}"\nrequests_per_minute = 0\n'
            f'[report]\noutput_dir = "{folder / "reports"}"\n'
        )
        os.environ["MWDATA_API_KEY"] = "key-all"  # the simulator's full-scope key
        result = definitions(config).resolve_job_def(JOB_NAME).execute_in_process(raise_on_error=False)
        for event in result.get_asset_materialization_events():
            mat = event.event_specific_data.materialization
            if mat.asset_key.path[0] in ("moveworks", "mwdata"):
                meta = {k: v.value for k, v in mat.metadata.items()}
                print(mat.asset_key.to_user_string(), meta)
        checks = [
            e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
        ]
        failed = [c for c in checks if not c.passed]
        print(f"{len(checks)} asset checks, {len(failed)} not passed:")
        for c in failed:
            print(f"  {c.asset_key.to_user_string()} {c.check_name} ({c.severity.value})")
        print(f"store and report in {folder}; run {'succeeded' if result.success else 'FAILED'}")
        return 0 if result.success else 1
    finally:
        sim.stop()


if __name__ == "__main__":
    sys.exit(demo())
