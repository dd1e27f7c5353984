"""Who may see what, and the record that they did: users, roles, scopes, audit.

Nothing here imports the web framework: the web app and the CLI are thin faces over it.
``policy`` is the one module that decides access; ``audit.record`` the one function that
writes the audit log.
"""

from empowered.access.audit import read_log, record
from empowered.access.policy import (
    ROLE_PERMISSIONS,
    Permission,
    Refused,
    Scope,
    can_see_area,
    can_see_pupil,
    has,
    pupil_filter,
    require,
    scope_for,
)
from empowered.access.roles import ROLE_LABELS, Role
from empowered.access.store import ensure_access_tables
from empowered.access.users import (
    AccessError,
    SignInResult,
    User,
    add_user,
    find_user,
    get_user,
    list_users,
    sign_in,
)

__all__ = [
    "ROLE_LABELS",
    "ROLE_PERMISSIONS",
    "AccessError",
    "Permission",
    "Refused",
    "Role",
    "Scope",
    "SignInResult",
    "User",
    "add_user",
    "can_see_area",
    "can_see_pupil",
    "ensure_access_tables",
    "find_user",
    "get_user",
    "has",
    "list_users",
    "pupil_filter",
    "read_log",
    "record",
    "require",
    "scope_for",
    "sign_in",
]
