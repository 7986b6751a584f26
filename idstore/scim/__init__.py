"""The SCIM 2.0 front end (provisioning from identity providers) over the same store."""
