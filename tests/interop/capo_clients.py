"""Run by capo-identitystore and capo-sts (their own HTTP and SigV4 code, no botocore):
python capo_clients.py URL STORE_ID ACCESS_KEY_ID SECRET. Prints what it saw as JSON."""

import json
import sys

from capo_identitystore import Credentials, identitystoreClient
from capo_identitystore.errors import ResourceNotFoundException
from capo_identitystore.errors._base import ServiceError
from capo_sts import Credentials as StsCredentials
from capo_sts import STSClient
from capo_sts.errors._base import ServiceError as StsServiceError

url, store_id, key_id, secret = sys.argv[1:]
ids = identitystoreClient(
    endpoint=url,
    region="us-east-1",
    credentials=Credentials(access_key=key_id, secret_key=secret),
    retry_max_attempts=1,
)
sts = STSClient(
    endpoint=url,
    region="us-east-1",
    credentials=StsCredentials(access_key=key_id, secret_key=secret),
    retry_max_attempts=1,
)
out: dict = {"caller": sts.get_caller_identity()}

user_id = ids.create_user(
    store_id,
    user_name="capo",
    display_name="Capo User",
    name={"given_name": "Capo", "family_name": "User"},
    emails=[{"value": "capo@example.com", "primary": True}],
)["user_id"]
out["described"] = ids.describe_user(store_id, user_id)["user_name"]
ids.update_user(
    store_id, user_id, [{"attribute_path": "displayName", "attribute_value": "Renamed"}]
)
out["listed"] = [u["display_name"] for u in ids.iter_list_users(store_id, max_results=1)]
out["found"] = (
    ids.get_user_id(
        store_id,
        {"UniqueAttribute": {"attribute_path": "userName", "attribute_value": "capo"}},
    )["user_id"]
    == user_id
)
group_id = ids.create_group(store_id, display_name="capo-group")["group_id"]
membership = ids.create_group_membership(store_id, group_id, {"UserId": user_id})
out["member"] = ids.is_member_in_groups(store_id, {"UserId": user_id}, [group_id])["results"][0][
    "membership_exists"
]
out["memberships"] = len(list(ids.iter_list_group_memberships(store_id, group_id)))
ids.delete_group_membership(store_id, membership["membership_id"])
ids.delete_group(store_id, group_id)
ids.delete_user(store_id, user_id)
try:
    ids.describe_user(store_id, user_id)
except ResourceNotFoundException as error:
    out["missing"] = error.code

bad = identitystoreClient(
    endpoint=url,
    region="us-east-1",
    credentials=Credentials(access_key=key_id, secret_key=secret + "x"),
    retry_max_attempts=1,
)
try:
    bad.list_users(store_id)
except ServiceError as error:
    out["refused"] = error.code
bad_sts = STSClient(
    endpoint=url,
    region="us-east-1",
    credentials=StsCredentials(access_key=key_id, secret_key=secret + "x"),
    retry_max_attempts=1,
)
try:
    bad_sts.get_caller_identity()
except StsServiceError as error:
    out["sts_refused"] = error.code
print(json.dumps(out))
