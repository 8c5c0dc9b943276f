#!/usr/bin/env python3
"""Entry point for the CDK CLI (`cdk synth`, `cdk diff`, `cdk deploy`); see stacks/factory.py."""

import sys

from constructs_lib.config import ConfigError
from stacks.factory import create_app


def main() -> int:
    try:
        app = create_app()
    except ConfigError as error:
        # A list of what to fix, not a traceback; nothing has been written to cdk.out yet.
        print(error.report(), file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
