"""The API's description (OpenAPI), for signed-in users only.

FastAPI serves it to anyone by default; it lists every route and parameter, which is a
map for an attacker and nothing a visitor without an account needs. The interactive
/docs and /redoc pages are not served at all.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from empowered.access.users import User
from empowered.web.deps import current_user

router = APIRouter()

OPENAPI_PATH = "/api/openapi.json"


@router.get(OPENAPI_PATH, include_in_schema=False)
def openapi(request: Request, _user: Annotated[User, Depends(current_user)]) -> dict[str, Any]:
    return request.app.openapi()  # type: ignore[no-any-return]
