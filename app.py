#!/usr/bin/env python3
"""Entry point for the CDK CLI (`cdk synth`, `cdk diff`, `cdk deploy`); see stacks/factory.py."""

import sys

from constructs_lib.config import ConfigError
from stacks.factory import create_app


def main() -> int:
    try:
        # Without aws-cdk-lib's built-in template validation (2-3 s and ~450 MiB per synth): the
        # test session synthesizes with it on (tests/conftest.py), and `make unit` is part of the
        # pipeline's synth step and of CI, so every template is still checked before it ships.
        # cdk-nag runs here; cfn-guard runs once over what this writes (`make cfn-guard`, part of
        # `make scan`). `make bench` measures what each costs.
        app = create_app(builtin_cloud_formation_validation=False)
    except ConfigError as error:
        # A list of what to fix, not a traceback; nothing has been written to cdk.out yet.
        print(error.report(), file=sys.stderr)
        return 1
    try:
        app.synth()
    except RuntimeError as error:
        # cdk-nag and the template validation report through jsii as ValidationFailed: the
        # report says what to fix, a Python traceback around it would only hide it.
        if "ValidationFailed" not in str(error):
            raise
        print(str(error), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
