"""Human- and machine-readable reports on a Graph: `inspect` (per-layer costs) and `memory`."""
