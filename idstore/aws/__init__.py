"""The AWS front end: the identitystore API over AWS JSON 1.1, driven by botocore's model."""
