"""The OpenAPI 3.1 description of /api/v1 and /healthz, written by hand as data.

It is the API's documented, stable shape: tests validate it with openapi-spec-validator and replay it
against the app with schemathesis, so a response that strays from it fails the build."""

from copy import deepcopy

from petition.rules import eci

VERSION = "1.0.0"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _error(description: str, headers: dict | None = None) -> dict:
    return _json(_ref("Error"), description, headers)


_CACHE_HEADERS = {
    "ETag": {"$ref": "#/components/headers/ETag"},
    "Cache-Control": {"$ref": "#/components/headers/PublicCacheControl"},
    "Access-Control-Allow-Origin": {"$ref": "#/components/headers/AllowAnyOrigin"},
}
_NOT_MODIFIED = {"description": "Not modified since the ETag given in If-None-Match.", "headers": _CACHE_HEADERS}
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of a response you already have; the answer is then 304 with no body while it is current.",
    "schema": {"type": "string"},
}
_SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "description": "The petition's address, as in `/p/<slug>`.",
    "schema": {"type": "string"},
    "example": "demo",
}
_RATE_LIMITED = _error(
    "Too many requests with this key (or, without a valid key, from this address). Wait `Retry-After` seconds.",
    {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}},
)
_UNAUTHORIZED = _error("Missing, unknown, rotated or revoked API key.")


def _minimum_ages() -> str:
    """ "16 in AT, BE, …; 17 in GR; 18 elsewhere", from the shipped ECI table."""
    usual = eci.usual_minimum_age()
    ages = [f"{age} in {', '.join(codes)}" for age, codes in eci.states_by_minimum_age().items() if age != usual]
    return "; ".join([*ages, f"{usual} elsewhere"])


_SCHEMAS = {
    "PetitionStatus": {"type": "string", "enum": ["draft", "open", "closed"]},
    "Timestamp": {
        "type": "string",
        "format": "date-time",
        "description": "UTC, to the second: `2026-11-26T10:00:00Z`.",
        "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
    },
    "PetitionSummary": {
        "type": "object",
        "required": ["slug", "title", "status", "total"],
        "additionalProperties": False,
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "status": _ref("PetitionStatus"),
            "total": {"type": "integer", "minimum": 0, "description": "Confirmed signatures."},
        },
    },
    "PetitionList": {
        "type": "object",
        "required": ["petitions"],
        "additionalProperties": False,
        "properties": {"petitions": {"type": "array", "items": _ref("PetitionSummary")}},
    },
    "CountryProgress": {
        "type": "object",
        "required": ["code", "count", "threshold", "reached"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO 3166-1 alpha-2."},
            "count": {"type": "integer", "minimum": 0},
            "threshold": {"type": ["integer", "null"], "minimum": 1, "description": "Null where none applies."},
            "reached": {"type": "boolean"},
        },
    },
    "Goal": {
        "type": "object",
        "required": ["total", "min_countries"],
        "additionalProperties": False,
        "properties": {
            "total": {"type": ["integer", "null"], "minimum": 1},
            "min_countries": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "Countries that must reach their threshold (ECI rules); null under simple rules.",
            },
        },
    },
    "PetitionDetail": {
        "type": "object",
        "required": [
            "slug",
            "title",
            "status",
            "opens_at",
            "closes_at",
            "total",
            "goal",
            "countries",
            "countries_reached",
            "goal_reached",
            "updated_at",
        ],
        "additionalProperties": False,
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "status": _ref("PetitionStatus"),
            "opens_at": {"oneOf": [_ref("Timestamp"), {"type": "null"}]},
            "closes_at": {"oneOf": [_ref("Timestamp"), {"type": "null"}]},
            "total": {"type": "integer", "minimum": 0, "description": "Confirmed signatures."},
            "goal": {"oneOf": [_ref("Goal"), {"type": "null"}], "description": "Null for a petition without one."},
            "countries": {
                "type": "array",
                "items": _ref("CountryProgress"),
                "description": "Every country that has a threshold or a count, by code.",
            },
            "countries_reached": {"type": "integer", "minimum": 0},
            "goal_reached": {"type": "boolean"},
            "updated_at": _ref("Timestamp"),
        },
    },
    "SignatureInput": {
        "type": "object",
        "required": ["first_name", "last_name", "email", "country", "consent"],
        "description": (
            "The fields of the signing form, checked exactly as the form checks them. Names: 1-100 "
            "characters with at least one letter and no control characters. Email: a deliverable-looking "
            "ASCII address. Country: ISO 3166-1 alpha-2 (`EL` is accepted for Greece); ECI petitions take "
            "EU member states only, and there it is the signer's nationality (an initiative counts each "
            "signer for the member state of their nationality, wherever they live). Other properties are "
            "ignored."
        ),
        "properties": {
            "first_name": {"type": "string", "examples": ["Ana"]},
            "last_name": {"type": "string", "examples": ["Kovač"]},
            "email": {"type": "string", "examples": ["ana@example.org"]},
            "country": {"type": "string", "examples": ["DE"]},
            "consent": {
                "type": "boolean",
                "description": "The signer agreed that name, email and country are stored to count the signature. "
                "Must be true.",
            },
            "keep_informed": {"type": "boolean", "description": "The signer wants news about the campaign."},
            "eligible": {
                "type": "boolean",
                "description": "ECI petitions: the signer stated, on your form, that they are a citizen of the member "
                f"state given as `country` and old enough to sign there ({eci.minimum_ages_in_words()}). "
                "Optional: leave it out when your form carries that statement; `false` is refused with 422. "
                "Ignored on other petitions.",
            },
            "source": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_-]{1,40}$",
                "description": "Your own campaign code; stored as `api:<partner id>/<code>`.",
            },
        },
    },
    "Accepted": {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {"status": {"const": "pending"}},
    },
    "ValidationErrors": {
        "type": "object",
        "required": ["errors"],
        "additionalProperties": False,
        "properties": {
            "errors": {
                "type": "object",
                "description": "Messages per field (`body` when the request was not a JSON object).",
                "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            }
        },
    },
    "PartnerStats": {
        "type": "object",
        "required": ["partner", "petitions", "generated_at"],
        "additionalProperties": False,
        "properties": {
            "partner": {
                "type": "object",
                "required": ["id", "name"],
                "additionalProperties": False,
                "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
            },
            "petitions": {
                "type": "array",
                "description": "Petitions you collect for, and any you brought signatures to before.",
                "items": {
                    "type": "object",
                    "required": ["slug", "title", "submitted", "pending", "confirmed"],
                    "additionalProperties": False,
                    "properties": {
                        "slug": {"type": "string"},
                        "title": {"type": "string"},
                        "submitted": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "Submissions accepted through your widget and key, whatever the address's "
                            "state: a person who submits twice counts twice, so the figure never tells whether "
                            "an address had signed before.",
                        },
                        "pending": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "Submitted and not (yet) confirmed: `submitted` minus `confirmed`.",
                        },
                        "confirmed": {"type": "integer", "minimum": 0, "description": "Confirmed and counted."},
                    },
                },
            },
            "generated_at": _ref("Timestamp"),
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "description": "A stable machine-readable code, e.g. `not_found`."},
            "message": {"type": "string"},
            "status": {"type": "integer"},
            "retry_after": {"type": "integer", "minimum": 1},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "enum": ["ok", "unavailable"]}},
    },
}

_HEADERS = {
    "ETag": {"description": "Send it back as If-None-Match.", "required": True, "schema": {"type": "string"}},
    "PublicCacheControl": {
        "description": "Fresh for a second, then served stale while it is revalidated.",
        "required": True,
        "schema": {"type": "string"},
    },
    "AllowAnyOrigin": {
        "description": "Public figures are readable from any web page.",
        "required": True,
        "schema": {"type": "string", "const": "*"},
    },
    "RetryAfter": {"description": "Seconds to wait.", "required": True, "schema": {"type": "string"}},
}

_PATHS = {
    "/api/v1/petitions": {
        "get": {
            "operationId": "listPetitions",
            "tags": ["public"],
            "summary": "Petitions that are open or closed (not drafts), with their totals.",
            "parameters": [_IF_NONE_MATCH],
            "responses": {
                "200": _json(_ref("PetitionList"), "The petitions.", _CACHE_HEADERS),
                "304": _NOT_MODIFIED,
            },
        }
    },
    "/api/v1/petitions/{slug}": {
        "get": {
            "operationId": "getPetition",
            "tags": ["public"],
            "summary": "A petition's live figures: total, goal and progress per country.",
            "description": "A confirmed signature shows here within two seconds.",
            "parameters": [_SLUG, _IF_NONE_MATCH],
            "responses": {
                "200": _json(_ref("PetitionDetail"), "The petition.", _CACHE_HEADERS),
                "304": _NOT_MODIFIED,
                "404": _error("No such petition (or not public yet)."),
            },
        }
    },
    "/api/v1/petitions/{slug}/events": {
        "get": {
            "operationId": "petitionEvents",
            "tags": ["public"],
            "summary": "The petition's figures as Server-Sent Events, pushed when they change.",
            "description": (
                "Each event's data is the same JSON as GET /api/v1/petitions/{slug}. The first event comes "
                "at once, later ones at most about once a second and only when the figures changed; a "
                "comment line keeps the stream alive. A stream ends after a few minutes and EventSource "
                "reconnects by itself. When a server has no room for another stream it answers 503: poll "
                "the JSON instead."
            ),
            "parameters": [_SLUG],
            "responses": {
                "200": {
                    "description": "An event stream.",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                "404": _error("No such petition (or not public yet)."),
                "503": {
                    "description": "No room for another live viewer here; poll the JSON API.",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
            },
        }
    },
    "/api/v1/petitions/{slug}/signatures": {
        "post": {
            "operationId": "submitSignature",
            "tags": ["partner"],
            "summary": "Submit a signature collected by your own form.",
            "description": (
                "Call from your server; never put the key in a web page. The signer receives the same "
                "confirmation email as on our site and counts once they confirm. The answer is the same "
                "whether the address is new, still pending, already confirmed or refused, so it reveals "
                "nothing about who signed. Rate-limited per key."
            ),
            "security": [{"partnerKey": []}],
            "parameters": [_SLUG],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": _ref("SignatureInput"),
                        "example": {
                            "first_name": "Ana",
                            "last_name": "Kovač",
                            "email": "ana@example.org",
                            "country": "DE",
                            "consent": True,
                            "keep_informed": False,
                            "source": "newsletter-june",
                        },
                    }
                },
            },
            "responses": {
                "202": _json(_ref("Accepted"), "Accepted; a confirmation email is on its way."),
                "401": _UNAUTHORIZED,
                "403": _error("Your key may not collect for this petition."),
                "404": _error("No such petition (or not public yet)."),
                "409": _error("The petition does not accept signatures now (closed)."),
                "422": _json(_ref("ValidationErrors"), "Fields to correct, with the form's own messages."),
                "429": _RATE_LIMITED,
            },
        }
    },
    "/api/v1/partner/stats": {
        "get": {
            "operationId": "partnerStats",
            "tags": ["partner"],
            "summary": "Your own signatures per petition: pending and confirmed.",
            "description": "Only signatures your widget or your key brought in; nothing about anyone else's.",
            "security": [{"partnerKey": []}],
            "responses": {
                "200": _json(_ref("PartnerStats"), "Your counts."),
                "401": _UNAUTHORIZED,
                "429": _RATE_LIMITED,
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "openapi",
            "tags": ["meta"],
            "summary": "This document.",
            "parameters": [_IF_NONE_MATCH],
            "responses": {
                "200": _json({"type": "object"}, "OpenAPI 3.1.", _CACHE_HEADERS),
                "304": _NOT_MODIFIED,
            },
        }
    },
    "/healthz": {
        "get": {
            "operationId": "health",
            "tags": ["meta"],
            "summary": "Whether the service can reach its database.",
            "responses": {
                "200": _json(_ref("Health"), "Serving."),
                "503": _json(_ref("Health"), "The database does not answer."),
            },
        }
    },
}


def document(base_url: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Petition API",
            "version": VERSION,
            "description": (
                "Live figures of public petitions (no key, readable from any origin, cacheable with ETag), "
                "and for partner organisations: submitting signatures and reading their own counts with an "
                "API key (`Authorization: Bearer <key>`). No response ever contains personal data."
            ),
        },
        "servers": [{"url": base_url}],
        "tags": [
            {"name": "public", "description": "Open to everyone."},
            {"name": "partner", "description": "Needs a partner API key."},
            {"name": "meta"},
        ],
        "paths": deepcopy(_PATHS),
        "components": {
            "schemas": deepcopy(_SCHEMAS),
            "headers": deepcopy(_HEADERS),
            "securitySchemes": {
                "partnerKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The key you were given with your partner id (it starts with `ptk_`).",
                }
            },
        },
    }
