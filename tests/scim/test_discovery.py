"""The discovery documents publish exactly what is served, with the store's flags."""

from __future__ import annotations

from typing import Any

from tests.scim.conftest import CORE_GROUP, CORE_USER, ENTERPRISE, LIST, Scim

NOT_KEPT = {"password", "ims", "photos", "x509Certificates", "entitlements", "groups"}


def attributes(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in schema["attributes"]}


def test_service_provider_config_states_aws_features(scim: Scim) -> None:
    response = scim.get("/ServiceProviderConfig")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/scim+json"
    config = response.json()
    assert config["patch"] == {"supported": True}
    assert config["bulk"]["supported"] is False
    assert config["filter"] == {"supported": True, "maxResults": 100}
    for feature in ("changePassword", "sort", "etag"):
        assert config[feature] == {"supported": False}
    assert [s["type"] for s in config["authenticationSchemes"]] == ["oauthbearertoken"]
    assert config["meta"]["location"] == f"{scim.base}/ServiceProviderConfig"


def test_schemas_publish_only_supported_attributes_with_the_store_flags(scim: Scim) -> None:
    listing = scim.get("/Schemas").json()
    assert listing["schemas"] == [LIST]
    schemas = {s["id"]: s for s in listing["Resources"]}
    assert set(schemas) == {CORE_USER, CORE_GROUP, ENTERPRISE}
    user = attributes(schemas[CORE_USER])
    assert not NOT_KEPT & set(user)
    assert set(user) == {
        "userName", "name", "displayName", "nickName", "profileUrl", "title", "userType",
        "preferredLanguage", "locale", "timezone", "active", "emails", "phoneNumbers",
        "addresses", "roles",
    }  # fmt: skip
    assert (user["userName"]["uniqueness"], user["userName"]["caseExact"]) == ("server", False)
    assert user["userName"]["required"] is True
    name = {a["name"]: a for a in user["name"]["subAttributes"]}
    assert name["givenName"]["required"] and name["familyName"]["required"]
    emails = {a["name"]: a for a in user["emails"]["subAttributes"]}
    assert set(emails) == {"value", "type", "primary"}  # no `display`
    assert (emails["value"]["uniqueness"], emails["value"]["caseExact"]) == ("server", False)
    assert user["active"]["type"] == "boolean"
    group = attributes(schemas[CORE_GROUP])
    assert set(group) == {"displayName", "members"}
    assert (group["displayName"]["uniqueness"], group["displayName"]["caseExact"]) == (
        "server",
        False,
    )
    members = {a["name"]: a for a in group["members"]["subAttributes"]}
    assert set(members) == {"value", "$ref"}
    assert members["$ref"]["referenceTypes"] == ["User"]
    enterprise = attributes(schemas[ENTERPRISE])
    assert set(enterprise) == {
        "employeeNumber",
        "costCenter",
        "organization",
        "division",
        "department",
        "manager",
    }
    assert [a["name"] for a in enterprise["manager"]["subAttributes"]] == ["value"]
    for urn, schema in schemas.items():
        assert schema["meta"]["location"] == f"{scim.base}/Schemas/{urn}"
        assert scim.get(f"/Schemas/{urn}").json() == schema


def test_resource_types(scim: Scim) -> None:
    listing = scim.get("/ResourceTypes").json()
    kinds = {r["id"]: r for r in listing["Resources"]}
    assert kinds["User"]["endpoint"] == "/Users"
    assert kinds["User"]["schema"] == CORE_USER
    assert kinds["User"]["schemaExtensions"] == [{"schema": ENTERPRISE, "required": False}]
    assert kinds["Group"]["endpoint"] == "/Groups"
    assert kinds["Group"]["schemaExtensions"] == []
    assert scim.get("/ResourceTypes/Group").json() == kinds["Group"]
