// Drives idstore with the AWS SDK for JavaScript v3: node clients.js <endpoint> <storeId>
// Prints one JSON object with what it saw; the Python test checks it.
const {
  IdentitystoreClient, CreateUserCommand, DescribeUserCommand, GetUserIdCommand,
  UpdateUserCommand, CreateGroupCommand, CreateGroupMembershipCommand, IsMemberInGroupsCommand,
  DescribeUserCommand: Describe, paginateListUsers, DeleteUserCommand,
} = require("@aws-sdk/client-identitystore");

async function main() {
  const [endpoint, storeId] = process.argv.slice(2);
  const client = new IdentitystoreClient({
    endpoint, region: "us-east-1",
    credentials: { accessKeyId: "AKIDJAVASCRIPT", secretAccessKey: "secret" },
  });
  const out = {};
  const created = await client.send(new CreateUserCommand({
    IdentityStoreId: storeId, UserName: "js-user", DisplayName: "JS User",
    Name: { GivenName: "Java", FamilyName: "Script" },
    Emails: [{ Value: "js@example.com", Primary: true }],
  }));
  out.created = { UserId: created.UserId };
  const user = await client.send(new DescribeUserCommand({ IdentityStoreId: storeId, UserId: created.UserId }));
  out.described = { UserName: user.UserName, CreatedAt: user.CreatedAt.toISOString(), CreatedBy: user.CreatedBy };
  const found = await client.send(new GetUserIdCommand({
    IdentityStoreId: storeId,
    AlternateIdentifier: { UniqueAttribute: { AttributePath: "emails.value", AttributeValue: "JS@example.com" } },
  }));
  out.found = found.UserId;
  await client.send(new UpdateUserCommand({
    IdentityStoreId: storeId, UserId: created.UserId,
    Operations: [{ AttributePath: "nickName", AttributeValue: "jsy" }],
  }));
  const after = await client.send(new DescribeUserCommand({ IdentityStoreId: storeId, UserId: created.UserId }));
  out.nickName = after.NickName;
  const group = await client.send(new CreateGroupCommand({ IdentityStoreId: storeId, DisplayName: "js-group" }));
  await client.send(new CreateGroupMembershipCommand({
    IdentityStoreId: storeId, GroupId: group.GroupId, MemberId: { UserId: created.UserId },
  }));
  const member = await client.send(new IsMemberInGroupsCommand({
    IdentityStoreId: storeId, MemberId: { UserId: created.UserId }, GroupIds: [group.GroupId],
  }));
  out.member = member.Results.map((r) => r.MembershipExists);
  for (let i = 0; i < 5; i++) {
    await client.send(new CreateUserCommand({
      IdentityStoreId: storeId, UserName: `js-${i}`, DisplayName: `JS ${i}`,
      Name: { GivenName: "J", FamilyName: `${i}` },
    }));
  }
  const names = [];
  for await (const page of paginateListUsers({ client, pageSize: 2 }, { IdentityStoreId: storeId })) {
    for (const u of page.Users) names.push(u.UserName);
  }
  out.listed = names;
  try {
    await client.send(new Describe({ IdentityStoreId: storeId, UserId: "1234567890-aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa" }));
    out.error = null;
  } catch (e) {
    out.error = { name: e.name, ResourceType: e.ResourceType, status: e.$metadata.httpStatusCode };
  }
  try {
    await client.send(new CreateUserCommand({
      IdentityStoreId: storeId, UserName: "JS-USER", DisplayName: "Duplicate",
      Name: { GivenName: "D", FamilyName: "U" },
    }));
    out.conflict = null;
  } catch (e) {
    out.conflict = { name: e.name, Reason: e.Reason };
  }
  await client.send(new DeleteUserCommand({ IdentityStoreId: storeId, UserId: created.UserId }));
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
