"""Development tooling: the emulator, benchmarks and the diagram. Nothing here gates a deploy."""
