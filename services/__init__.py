"""Client-side services behind the CLI, the worker and the benchmarks: settings, logs, database, stack, simulation."""
