"""The edge component's own tests: each construct built alone in a bare stack."""
