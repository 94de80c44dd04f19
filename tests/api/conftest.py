"""The live OpenAPI schema, loaded by schemathesis, and the checks the schemathesis run makes,
applied to one response of the test client."""

import json
import re
from collections.abc import Callable

import pytest
import requests
import schemathesis
from django.test import Client
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="session")
def schema_document() -> dict:
    """The schema as a client reads it from /api/schema/ (no database needed)."""
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.fixture(scope="session")
def openapi(schema_document: dict) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(schema_document)


def as_schemathesis(response) -> schemathesis.Response:  # type: ignore[no-untyped-def]
    """A Django test response as schemathesis' own, so its checks can judge it."""
    environ = response.request
    url = f"http://testserver{environ['PATH_INFO']}"
    request = requests.Request(environ["REQUEST_METHOD"], url).prepare()
    headers = {name.lower(): [value] for name, value in response.headers.items()}
    return schemathesis.Response(
        status_code=response.status_code,
        headers=headers,
        content=response.content,
        request=request,
        elapsed=0.0,
        verify=False,
    )


def path_parameters(template: str, response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """`{"id": …}` of the request's path read through the operation's path template."""
    pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
    match = re.fullmatch(pattern, response.request["PATH_INFO"])
    assert match, f"{response.request['PATH_INFO']} is not {template}"
    return match.groupdict()


@pytest.fixture
def conforms(openapi: schemathesis.BaseSchema) -> Callable[..., None]:
    """`conforms(response, "GET /api/flows/{id}/")`: the status and content type are documented
    for that operation and the body validates against the documented schema (else it raises)."""

    def check(response, operation: str) -> None:  # type: ignore[no-untyped-def]
        method, path = operation.split(" ", 1)
        case = openapi[path][method].Case(path_parameters=path_parameters(path, response))
        case.validate_response(as_schemathesis(response), checks=CONFORMANCE)

    return check
