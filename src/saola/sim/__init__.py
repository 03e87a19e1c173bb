"""The demo city and the simulator used by the demo and the benchmarks."""
