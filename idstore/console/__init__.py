"""The admin console: a store's users, groups, memberships and SCIM tokens, from a browser.

Server-rendered HTML at `/console/` on the API's own port, working without JavaScript. It is a
third front end beside `aws` and `scim`, and like SCIM it writes through the AWS side's profile
rules (passed in by `app.py`) and the same Store calls, so every rule and error message is the
API's, and CreatedBy/UpdatedBy name the signed-in principal. See service.py for the routes and
the security model, and docs/console.md for how to use it.
"""

from idstore.console.service import ConsoleService, is_console_path

__all__ = ["ConsoleService", "is_console_path"]
