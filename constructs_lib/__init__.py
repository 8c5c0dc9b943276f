"""Reusable constructs and the typed configuration and naming helpers they share."""
