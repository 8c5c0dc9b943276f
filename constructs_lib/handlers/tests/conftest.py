"""The harness that runs each deploy-time handler under moto for every event CloudFormation sends.

What runs is the very text `InlineCustomResource` inlines (read from this package as it reads it),
with AWS's own cfnresponse module (the PyPI copy of the one Lambda injects into inline code). Its
PUT goes to a local server that stands in for the pre-signed ResponseURL, so each test asserts
both the change in the mocked account and the answer CloudFormation would get.
"""

from __future__ import annotations

import json
import threading
import types
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.cloudformation.models import cloudformation_backends

from constructs_lib.handlers import HANDLERS

ACCOUNT, REGION = "123456789012", "eu-west-1"
# A handler that has not answered by then would leave CloudFormation waiting: a failure.
ANSWER_WITHIN_SECONDS = 20
# The retry pauses of the handlers, none of which a test waits for.
PAUSES = ("PAUSE_SECONDS", "PROPAGATION_SECONDS")

CREATE_ROLLBACK = "ROLLBACK_IN_PROGRESS"
STACK_DELETION = "DELETE_IN_PROGRESS"
# Delete while the stack lives on: the resource left the template (or an old physical ID is
# cleaned up after a replacement), or an update rolls back.
STACK_LIVES_ON = (
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
)
EVERY_DELETE = (STACK_DELETION, CREATE_ROLLBACK, *STACK_LIVES_ON)

MISSING_STACK = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/gone/00000000-0000-0000-0000-0"


class ResponseCollector(BaseHTTPRequestHandler):
    received: dict[str, dict[str, Any]] = {}  # noqa: RUF012  # shared by the server's threads

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        ResponseCollector.received[self.path.lstrip("/")] = json.loads(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="package")
def response_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ResponseCollector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="package")
def aws_session() -> Iterator[None]:
    """The mocked account's credentials and region, and one boto3 session for every test here.

    A session per test would load botocore's service models and endpoints again each time: more
    than a second per test, most of what these tests took. The session holds no account state
    (that is moto's, reset for each test by `aws`), only those models and the credentials below.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        # No handler launches an instance; loading moto's AMI catalogue costs seconds per test.
        patch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        # The handlers call boto3.client(), which uses this default session.
        patch.setattr(boto3, "DEFAULT_SESSION", boto3.Session())
        yield


@pytest.fixture
def aws(aws_session: None) -> Iterator[None]:
    """A fresh mocked account per test: moto starts from empty backends and drops them after."""
    # Left to its defaults, moto would drop the shared session and swap the credentials.
    with mock_aws(config={"core": {"reset_boto3_session": False, "mock_credentials": False}}):
        yield


@dataclass
class LambdaContext:
    remaining_millis: int = 300_000
    log_stream_name: str = "2026/12/02/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


@dataclass
class Handler:
    """One handler module, loaded from the text that ships, and the URL it answers to."""

    name: str
    response_url: str
    module: types.ModuleType = field(init=False)

    def __post_init__(self) -> None:
        path = HANDLERS / f"{self.name}.py"
        self.module = types.ModuleType(self.name)
        # Read as InlineCustomResource reads it for Code.from_inline.
        exec(compile(path.read_text(), str(path), "exec"), self.module.__dict__)
        for pause in PAUSES:
            if hasattr(self.module, pause):
                setattr(self.module, pause, 0)

    def __call__(
        self,
        request_type: str,
        properties: dict[str, Any],
        *,
        stack_id: str,
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
        context: LambdaContext | None = None,
    ) -> dict[str, Any]:
        """Invoke the handler as Lambda does and return the response CloudFormation receives."""
        request_id = str(uuid.uuid4())
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ResponseURL": f"{self.response_url}/{request_id}",
            "StackId": stack_id,
            "RequestId": request_id,
            "ResourceType": "Custom::Test",
            "LogicalResourceId": "Resource",
            "ResourceProperties": {"ServiceToken": "arn:aws:lambda:::function:f", **properties},
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            event["OldResourceProperties"] = old_properties
        raised: list[BaseException] = []

        def invoke() -> None:
            try:
                self.module.handler(event, context or LambdaContext())
            except BaseException as error:
                raised.append(error)

        thread = threading.Thread(target=invoke, daemon=True)
        thread.start()
        thread.join(ANSWER_WITHIN_SECONDS)
        assert not thread.is_alive(), "the handler never returned: CloudFormation would wait"
        # An exception out of the handler is a Lambda error: no answer, and the stack waits.
        assert not raised, f"the handler raised instead of answering: {raised[0]!r}"
        response = ResponseCollector.received.pop(request_id, None)
        assert response is not None, "the handler returned without answering CloudFormation"
        assert response["RequestId"] == request_id
        assert response["StackId"] == stack_id
        return response


def create_stack(resources: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A stack created by moto's CloudFormation, and its resources' physical IDs by logical ID."""
    cloudformation = boto3.client("cloudformation")
    template = json.dumps({"Resources": resources})
    stack_id = cloudformation.create_stack(StackName="webapp", TemplateBody=template)["StackId"]
    summaries = cloudformation.list_stack_resources(StackName=stack_id)["StackResourceSummaries"]
    return stack_id, {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries}


def set_stack_status(stack_id: str, status: str) -> None:
    # moto runs every stack operation to its end within the API call, so the in-progress statuses
    # a handler sees while CloudFormation waits for it never last there. The test sets the status
    # on moto's own record of the stack; the handler reads it through DescribeStacks as in AWS.
    cloudformation_backends[ACCOUNT][REGION].stacks[stack_id].status = status
