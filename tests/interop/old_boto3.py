"""Run by an older boto3 (1.43, without the 1.44 members): python old_boto3.py URL STORE_ID."""

import json
import sys

import boto3
import botocore

url, store_id = sys.argv[1:]
client = boto3.client(
    "identitystore",
    endpoint_url=url,
    region_name="us-east-1",
    aws_access_key_id="AKIDOLDBOTO",
    aws_secret_access_key="secret",
)
out = {"botocore": botocore.__version__}
user_id = client.create_user(
    IdentityStoreId=store_id,
    UserName="old-client",
    DisplayName="Old Client",
    Name={"GivenName": "Old", "FamilyName": "Client"},
)["UserId"]
out["user"] = client.describe_user(IdentityStoreId=store_id, UserId=user_id)["UserName"]
client.update_user(
    IdentityStoreId=store_id,
    UserId=user_id,
    Operations=[{"AttributePath": "displayName", "AttributeValue": "Renamed"}],
)
pages = client.get_paginator("list_users").paginate(
    IdentityStoreId=store_id, PaginationConfig={"PageSize": 1}
)
out["listed"] = [u["DisplayName"] for page in pages for u in page["Users"]]
try:
    client.describe_group(
        IdentityStoreId=store_id, GroupId="1234567890-aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
    )
except client.exceptions.ResourceNotFoundException as error:
    out["error"] = error.response["ResourceType"]
print(json.dumps(out))
