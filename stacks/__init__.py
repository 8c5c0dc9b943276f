"""Stacks and the stage that composes them into one environment."""
