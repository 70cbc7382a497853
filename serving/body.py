"""Request bodies decoded by msgspec in one pass, with refusals a client can act on.

Litestar's default for a Struct parameter decodes JSON into dicts first and converts
them afterwards, reporting both malformed JSON and rule violations as 400. This DTO hands
the raw body straight to a ``msgspec.json.Decoder`` built for the handler's ``data``
type (a 10,000-house batch is decoded and validated in one pass) and tells the two
apart: malformed JSON is 400, a value that breaks a rule is 422 with its JSON path.
Litestar still documents ``data``'s type in the OpenAPI schema.

Litestar reads a ``data`` body as JSON whatever its ``Content-Type`` says, so the
``require_json`` guard, run before the body is read, answers 415 to a body declared as
anything else (``text/plain``, a form). A request with no ``Content-Type`` is read as JSON.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from litestar.dto import AbstractDTO
from litestar.exceptions import ClientException
from litestar.status_codes import (
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    HTTP_422_UNPROCESSABLE_ENTITY,
)

from serving.schemas import FIELD_RULES, Problem, empty_category_message

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.connection import ASGIConnection
    from litestar.dto._backend import DTOBackend
    from litestar.dto.data_structures import DTOFieldDefinition
    from litestar.handlers import BaseRouteHandler
    from litestar.openapi.spec import Reference, Schema
    from litestar.typing import FieldDefinition

__all__ = [
    "InvalidBody",
    "MalformedBody",
    "MsgspecBody",
    "UnsupportedBody",
    "problem_from_msgspec",
    "require_json",
]

_AT_PATH = re.compile(r"^(?P<reason>.*?)(?: - at `(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED_FIELD = re.compile(r"field `(?P<name>[^`]*)`")
_LAST_KEY = re.compile(r"\.(?P<name>\w+)$")
_TOO_LONG = re.compile(r"^Expected `array` of length <= (?P<limit>\d+)")
_TOO_SHORT_TEXT = re.compile(r"^Expected `str` of length >= 1")


class MalformedBody(ClientException):
    """400: the body is not JSON at all (truncated, a typo, an empty document)."""


class UnsupportedBody(ClientException):
    """415: the body is declared as a media type other than JSON."""

    status_code = HTTP_415_UNSUPPORTED_MEDIA_TYPE


class InvalidBody(ClientException):
    """422: well-formed JSON whose values break a rule; ``extra`` lists the problems."""

    status_code = HTTP_422_UNPROCESSABLE_ENTITY


class MsgspecBody(AbstractDTO[Any]):
    """Decode ``data`` with one msgspec decoder per route handler; encode nothing."""

    _decoders: ClassVar[dict[str, msgspec.json.Decoder[Any]]] = {}
    # Litestar's handler_id is rebuilt on every access; look it up once per handler.
    _by_handler: ClassVar[dict[int, msgspec.json.Decoder[Any]]] = {}

    @classmethod
    def create_for_field_definition(
        cls,
        field_definition: FieldDefinition,
        handler_id: str,
        backend_cls: type[DTOBackend] | None = None,
    ) -> None:
        # ``raw`` keeps ``Annotated[..., Meta(...)]``, so list limits are enforced too.
        cls._decoders[handler_id] = msgspec.json.Decoder(field_definition.raw)

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: SchemaCreator
    ) -> Reference | Schema:
        return schema_creator.for_field_definition(field_definition)

    @classmethod
    def generate_field_definitions(
        cls, model_type: type[Any]
    ) -> Generator[DTOFieldDefinition, None, None]:
        # Litestar asks for these only to build its own transfer models, which we skip.
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    def decode_bytes(self, value: bytes) -> Any:
        handler = self.asgi_connection.route_handler
        decoder = self._by_handler.get(id(handler))
        if decoder is None:
            decoder = self._by_handler[id(handler)] = self._decoders[handler.handler_id]
        try:
            return decoder.decode(value)
        except msgspec.ValidationError as err:
            problem = problem_from_msgspec(err)
            raise InvalidBody(detail=problem.message, extra=[problem]) from err
        except msgspec.DecodeError as err:
            detail = f"the request body is not valid JSON ({err}); send a JSON document"
            raise MalformedBody(detail=detail) from err


def require_json(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Refuse (415) a body whose ``Content-Type`` is not JSON, before reading it."""
    declared = connection.headers.get("content-type")
    if declared is None:
        return
    media_type = declared.partition(";")[0].strip().lower()
    # application/json, or a type with the +json suffix (RFC 6839), e.g. application/ld+json.
    if media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        return
    detail = (
        f"the request body is declared as {media_type or 'nothing'!r}; send the houses as "
        "JSON with the header Content-Type: application/json"
    )
    raise UnsupportedBody(detail=detail)


def problem_from_msgspec(err: msgspec.ValidationError) -> Problem:
    """Turn msgspec's "Expected `int` >= 0 - at `$.houses[3].bedrooms`" into a ``Problem``."""
    match = _AT_PATH.match(str(err))
    reason = match.group("reason") if match else str(err)
    location = (match.group("path") if match else None) or "$"
    named = _NAMED_FIELD.search(reason) or _LAST_KEY.search(location)
    field = named.group("name") if named else None
    rule = FIELD_RULES.get(field or "")
    too_long = _TOO_LONG.match(reason)
    if rule is not None and rule.kind == "category" and _TOO_SHORT_TEXT.match(reason):
        message = f"{empty_category_message(field or '')} (at {location})"
    elif too_long:
        limit = int(too_long.group("limit"))
        message = f"too many houses at {location}: send at most {limit:,} per request"
    elif field is None:
        message = f"{reason} at {location}"
    elif rule is None:
        message = f"{field}: {reason} at {location}; the fields are {', '.join(FIELD_RULES)}"
    else:
        message = f"{field}: {reason} at {location}; the rule is: {rule.text}"
    return Problem(location=location, message=message, field=field)
