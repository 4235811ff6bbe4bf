"""The same jobs done the way a user would otherwise do them (for side-by-side benchmarks)."""
