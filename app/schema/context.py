"""The per-request context: who is asking, one serialised database session, the DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info as StrawberryInfo

from app.config import Settings
from app.db import Database, SerialSession

if TYPE_CHECKING:
    from app.auth.principal import Principal
    from app.schema.loaders import Loaders


class NotAuthenticated(Exception):
    """No valid credential on the request (a GraphQL error, not a UserError)."""

    def __init__(self) -> None:
        super().__init__("authentication required: send Authorization: Bearer <token>")


@dataclass
class Context:
    """What every resolver sees: the principal, its tenant-scoped session and the loaders."""

    database: Database
    settings: Settings
    principal: Principal | None
    session: AsyncSession | None
    request: Any = None
    response: Any = None
    # The token that authenticated the request (bearer header or session cookie).
    credential: str | None = None
    _db: SerialSession | None = None
    _loaders: Loaders | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def db(self) -> SerialSession:
        if self.session is None:
            raise NotAuthenticated()
        if self._db is None:
            self._db = SerialSession(self.session)
        return self._db

    @property
    def loaders(self) -> Loaders:
        from app.schema.loaders import Loaders

        if self._loaders is None:
            self._loaders = Loaders(self.db)
        return self._loaders

    def require(self, right: str) -> Principal:
        """The principal, after checking it holds ``right`` (R7); FORBIDDEN names the right."""
        if self.principal is None:
            raise NotAuthenticated()
        self.principal.require(right)
        return self.principal

    def require_any(self) -> Principal:
        """The principal of an authenticated request, whatever its rights."""
        if self.principal is None:
            raise NotAuthenticated()
        return self.principal

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()


Info = StrawberryInfo[Context, None]
