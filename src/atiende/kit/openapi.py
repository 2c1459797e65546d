"""OpenAPI for bodies an endpoint reads raw (a signature covers the exact bytes, so FastAPI does not
parse them): the request body documented from a Pydantic model, its definitions written inline."""

from typing import Any

from pydantic import BaseModel


def raw_body_doc(schema: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads ``schema``'s JSON from the raw body."""
    full = schema.model_json_schema()
    definitions = full.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(definitions[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return {"requestBody": {"required": True, "content": {"application/json": {"schema": inline(full)}}}}
