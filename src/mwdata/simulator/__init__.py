"""The simulated Moveworks Data API: a deterministic generator and a faithful OData server with faults.

Shares nothing with mwdata.api/sync/store except the catalogue: an independent implementation
(docs/architecture.md, "Import rules").
"""

from mwdata.simulator.generator import Dataset, GeneratorConfig, generate, load_fixed_dataset
from mwdata.simulator.server import SimulatorConfig, SimulatorServer, Stats

__all__ = [
    "Dataset",
    "GeneratorConfig",
    "SimulatorConfig",
    "SimulatorServer",
    "Stats",
    "generate",
    "load_fixed_dataset",
]
