"""Sync engine: plans windows on `last_updated_time`, reads them by keyset paging, writes through a Store."""

from mwdata.sync.runner import SyncOptions, SyncResult, run_sync

__all__ = ["SyncOptions", "SyncResult", "run_sync"]
