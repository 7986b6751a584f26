"""idstore: a self-hostable AWS Identity Store.

The public Python surface is small: the version, and (in :mod:`idstore.testing`) the in-process
test mode. Everything else is reached over the wire (the identitystore API and SCIM) or the CLI.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
