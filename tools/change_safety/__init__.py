"""Change safety: classify what a deploy would do to a live environment before it does it.

One classifier (`classify.py`) takes, for each stack, the deployed (or base) template, the template
to deploy and optionally the change set CloudFormation computed, and names every change that
replaces or deletes a stateful resource, cuts an export another stack imports, widens access or
cycles instances. `acknowledgments.py` decides which of those may go ahead; `stack_policy.py`
turns the same notion of "stateful" into a stack policy; `__main__.py` is what `make
check-change`, `make diff` and `make stack-policy` run.
"""
