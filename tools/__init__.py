"""What the deploy gate uses besides the tests (smoke test, scan summary, the cdk.out reader).

dev/ holds what only helps develop: the emulator, benchmarks and the diagram.
"""
