"""What the pipeline runs beside the tests (smoke test, scan summary); dev/ helps develop only."""
