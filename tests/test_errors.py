"""Error codes are one list (app.errors.ErrorCode) for the domain and the GraphQL API."""

from __future__ import annotations

import re
from pathlib import Path

import graphql
import pytest

from app import errors
from app.config import Settings
from app.errors import DomainError, ErrorCode
from app.schema import build_schema

CONTRACT = Path("/work/shared/contract.graphql")


def test_the_served_error_codes_are_the_domains_and_hold_the_contracts() -> None:
    # given: the served schema
    sdl = graphql.build_schema(build_schema(Settings(), introspection=True).as_str())
    served = sdl.get_type("ErrorCode")
    assert isinstance(served, graphql.GraphQLEnumType)
    # then: its values are exactly the domain's codes
    assert set(served.values) == {code.value for code in ErrorCode}
    # and every code of the partner contract is among them
    if CONTRACT.exists():
        block = re.search(r"enum ErrorCode \{(.*?)\}", CONTRACT.read_text(), re.S)
        assert block is not None
        named = {line.split("#")[0].strip() for line in block.group(1).splitlines()} - {""}
        assert named <= set(served.values)


def test_each_code_is_importable_by_name_and_a_misspelt_one_is_refused() -> None:
    # then: `from app.errors import NOT_FOUND` gives the member (a typo fails at import)
    for code in ErrorCode:
        assert getattr(errors, code.name) is code
    with pytest.raises(ImportError):
        exec("from app.errors import NOT_FOUDN")
    # and a code that is no ErrorCode never reaches a client
    with pytest.raises(ValueError):
        DomainError("NOT_FOUDN", "x")  # type: ignore[arg-type]
    assert DomainError(errors.NOT_FOUND, "keyId: no such key", "keyId").code == "NOT_FOUND"
