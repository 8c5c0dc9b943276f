"""Developer tools run through the Makefile: emulator deploys, scans, benchmarks, diagrams."""
