"""DataLoaders: every relation of the graph is fetched in one statement per batch, never per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from strawberry.dataloader import DataLoader

from app.db import SerialSession
from app.models import (
    AccessEntry,
    AccessProfile,
    AccessProfileCylinder,
    Domain,
    EmployeeAccessProfile,
    Key,
    KeyAccessProfile,
    KeyGroup,
    KeyGroupMember,
    ProgrammingJobChange,
    ProgrammingKeyDomain,
    ProgrammingKeyRole,
    Role,
)
from app.models import Cylinder as CylinderRow


class Loaders:
    """The request's loaders, created on first use; each batches by primary or foreign key."""

    def __init__(self, db: SerialSession) -> None:
        self.db = db
        self._by_id: dict[type, DataLoader[int, Any]] = {}
        self._custom: dict[str, DataLoader[Any, Any]] = {}

    def by_id(self, model: type) -> DataLoader[int, Any]:
        """Rows of ``model`` by id (None where the row does not exist for this principal)."""
        loader = self._by_id.get(model)
        if loader is None:

            async def load(ids: Sequence[int]) -> list[Any]:
                rows = await self.db.scalars(select(model).where(model.id.in_(set(ids))))
                found = {row.id: row for row in rows}
                return [found.get(i) for i in ids]

            loader = DataLoader(load_fn=load)
            self._by_id[model] = loader
        return loader

    def _many(self, name: str, fetch: Callable[[Sequence[Hashable]], Any]) -> DataLoader[Any, Any]:
        loader = self._custom.get(name)
        if loader is None:
            loader = DataLoader(load_fn=fetch)
            self._custom[name] = loader
        return loader

    async def _grouped(self, stmt: Any, keys: Sequence[Hashable]) -> list[list[Any]]:
        result = await self.db.execute(stmt)
        grouped: dict[Hashable, list[Any]] = defaultdict(list)
        for parent, row in result.all():
            grouped[parent].append(row)
        return [grouped.get(k, []) for k in keys]

    @property
    def key_access_profiles(self) -> DataLoader[int, list[AccessProfile]]:
        async def fetch(key_ids: Sequence[int]) -> list[list[AccessProfile]]:
            stmt = (
                select(KeyAccessProfile.key_id, AccessProfile)
                .join(AccessProfile, AccessProfile.id == KeyAccessProfile.access_profile_id)
                .where(KeyAccessProfile.key_id.in_(set(key_ids)))
                .order_by(AccessProfile.name, AccessProfile.id)
            )
            return await self._grouped(stmt, key_ids)

        return self._many("key_access_profiles", fetch)

    @property
    def employee_access_profiles(self) -> DataLoader[int, list[AccessProfile]]:
        async def fetch(employee_ids: Sequence[int]) -> list[list[AccessProfile]]:
            stmt = (
                select(EmployeeAccessProfile.employee_id, AccessProfile)
                .join(AccessProfile, AccessProfile.id == EmployeeAccessProfile.access_profile_id)
                .where(EmployeeAccessProfile.employee_id.in_(set(employee_ids)))
                .order_by(AccessProfile.name, AccessProfile.id)
            )
            return await self._grouped(stmt, employee_ids)

        return self._many("employee_access_profiles", fetch)

    @property
    def key_groups_of_key(self) -> DataLoader[int, list[KeyGroup]]:
        async def fetch(key_ids: Sequence[int]) -> list[list[KeyGroup]]:
            stmt = (
                select(KeyGroupMember.key_id, KeyGroup)
                .join(KeyGroup, KeyGroup.id == KeyGroupMember.key_group_id)
                .where(KeyGroupMember.key_id.in_(set(key_ids)))
                .order_by(KeyGroup.name, KeyGroup.id)
            )
            return await self._grouped(stmt, key_ids)

        return self._many("key_groups_of_key", fetch)

    @property
    def keys_of_group(self) -> DataLoader[int, list[Key]]:
        async def fetch(group_ids: Sequence[int]) -> list[list[Key]]:
            stmt = (
                select(KeyGroupMember.key_group_id, Key)
                .join(Key, Key.id == KeyGroupMember.key_id)
                .where(KeyGroupMember.key_group_id.in_(set(group_ids)))
                .order_by(Key.marking, Key.id)
            )
            return await self._grouped(stmt, group_ids)

        return self._many("keys_of_group", fetch)

    @property
    def keys_of_holder(self) -> DataLoader[int, list[Key]]:
        async def fetch(employee_ids: Sequence[int]) -> list[list[Key]]:
            stmt = (
                select(Key.holder_id, Key)
                .where(Key.holder_id.in_(set(employee_ids)))
                .order_by(Key.marking, Key.id)
            )
            return await self._grouped(stmt, employee_ids)

        return self._many("keys_of_holder", fetch)

    @property
    def cylinders_of_profile(self) -> DataLoader[int, list[CylinderRow]]:
        async def fetch(profile_ids: Sequence[int]) -> list[list[CylinderRow]]:
            stmt = (
                select(AccessProfileCylinder.access_profile_id, CylinderRow)
                .join(CylinderRow, CylinderRow.id == AccessProfileCylinder.cylinder_id)
                .where(AccessProfileCylinder.access_profile_id.in_(set(profile_ids)))
                .order_by(CylinderRow.marking, CylinderRow.id)
            )
            return await self._grouped(stmt, profile_ids)

        return self._many("cylinders_of_profile", fetch)

    @property
    def roles_of_programming_key(self) -> DataLoader[int, list[Role]]:
        async def fetch(pk_ids: Sequence[int]) -> list[list[Role]]:
            stmt = (
                select(ProgrammingKeyRole.programming_key_id, Role)
                .join(Role, Role.id == ProgrammingKeyRole.role_id)
                .where(ProgrammingKeyRole.programming_key_id.in_(set(pk_ids)))
                .order_by(Role.name)
            )
            return await self._grouped(stmt, pk_ids)

        return self._many("roles_of_programming_key", fetch)

    @property
    def domains_of_programming_key(self) -> DataLoader[int, list[Domain]]:
        async def fetch(pk_ids: Sequence[int]) -> list[list[Domain]]:
            stmt = (
                select(ProgrammingKeyDomain.programming_key_id, Domain)
                .join(Domain, Domain.id == ProgrammingKeyDomain.domain_id)
                .where(ProgrammingKeyDomain.programming_key_id.in_(set(pk_ids)))
                .order_by(Domain.name)
            )
            return await self._grouped(stmt, pk_ids)

        return self._many("domains_of_programming_key", fetch)

    @property
    def changes_of_job(self) -> DataLoader[int, list[ProgrammingJobChange]]:
        async def fetch(job_ids: Sequence[int]) -> list[list[ProgrammingJobChange]]:
            stmt = (
                select(ProgrammingJobChange.job_id, ProgrammingJobChange)
                .where(ProgrammingJobChange.job_id.in_(set(job_ids)))
                .order_by(ProgrammingJobChange.id)
            )
            return await self._grouped(stmt, job_ids)

        return self._many("changes_of_job", fetch)

    @property
    def access_list_of_cylinder(self) -> DataLoader[int, list[AccessEntry]]:
        async def fetch(cylinder_ids: Sequence[int]) -> list[list[AccessEntry]]:
            stmt = (
                select(AccessEntry.cylinder_id, AccessEntry)
                .where(AccessEntry.cylinder_id.in_(set(cylinder_ids)))
                .order_by(AccessEntry.id)
            )
            return await self._grouped(stmt, cylinder_ids)

        return self._many("access_list_of_cylinder", fetch)

    @property
    def authorizations_of_key(self) -> DataLoader[int, list[Any]]:
        from app.access.authorizations import authorizations_for_keys

        async def fetch(key_ids: Sequence[int]) -> list[list[Any]]:
            return await authorizations_for_keys(self.db, key_ids)

        return self._many("authorizations_of_key", fetch)

    @property
    def firmware_progress_of_device(self) -> DataLoader[int, Any]:
        """The newest unfinished (else newest) firmware deployment of each device (R25)."""
        from app.models import Firmware, FirmwareDeployment

        async def fetch(device_ids: Sequence[int]) -> list[Any]:
            result = await self.db.execute(
                select(FirmwareDeployment, Firmware)
                .join(Firmware, Firmware.id == FirmwareDeployment.firmware_id)
                .where(FirmwareDeployment.device_id.in_(set(device_ids)))
                .order_by(FirmwareDeployment.done, FirmwareDeployment.id.desc())
            )
            best: dict[int, Any] = {}
            for deployment, firmware in result.all():
                best.setdefault(deployment.device_id, (deployment, firmware))
            return [best.get(d) for d in device_ids]

        return self._many("firmware_progress_of_device", fetch)

    @property
    def cylinders_of_cylinder_group(self) -> DataLoader[int, list[CylinderRow]]:
        from app.models import CylinderGroupMember

        async def fetch(group_ids: Sequence[int]) -> list[list[CylinderRow]]:
            stmt = (
                select(CylinderGroupMember.cylinder_group_id, CylinderRow)
                .join(CylinderRow, CylinderRow.id == CylinderGroupMember.cylinder_id)
                .where(CylinderGroupMember.cylinder_group_id.in_(set(group_ids)))
                .order_by(CylinderRow.marking, CylinderRow.id)
            )
            return await self._grouped(stmt, group_ids)

        return self._many("cylinders_of_cylinder_group", fetch)

    def child_pages(
        self, model: Any, fk_name: str, limit: int, *, newest_first: bool = False,
        hidden: str | None = None,
    ) -> DataLoader[int, Any]:
        """The first ``limit`` children of each parent, in one windowed statement: by id, or
        ``newest_first`` by (``at``, id) descending (audit trails, R28). Children whose
        boolean column ``hidden`` is true are left out (withheld audit events, R29).

        Nested connections (a cylinder's jobs in a list of cylinders) would otherwise
        page with one query per parent.
        """

        async def fetch(parent_ids: Sequence[int]) -> list[tuple[list[Any], bool]]:
            fk = getattr(model, fk_name)
            order = [model.at.desc(), model.id.desc()] if newest_first else [model.id]
            rank = func.row_number().over(partition_by=fk, order_by=order).label("rank")
            shown = select(model, rank).where(fk.in_(set(parent_ids)))
            if hidden is not None:
                shown = shown.where(getattr(model, hidden).is_(False))
            ranked = shown.subquery()
            child = aliased(model, ranked)
            result = await self.db.execute(
                select(child)
                .where(ranked.c.rank <= limit + 1)
                .order_by(ranked.c[fk_name], ranked.c.rank)
            )
            grouped: dict[int, list[Any]] = defaultdict(list)
            for row in result.scalars().all():
                grouped[getattr(row, fk_name)].append(row)
            return [(grouped[p][:limit], len(grouped[p]) > limit) for p in parent_ids]

        order_name = "newest" if newest_first else "id"
        return self._many(
            f"pages:{model.__name__}:{fk_name}:{limit}:{order_name}:{hidden}", fetch
        )

    def child_counts(
        self, model: Any, fk_name: str, *, hidden: str | None = None
    ) -> DataLoader[int, int]:
        """How many children each parent has, in one grouped statement (``hidden`` as in
        :meth:`child_pages`)."""

        async def fetch(parent_ids: Sequence[int]) -> list[int]:
            fk = getattr(model, fk_name)
            counted = select(fk, func.count()).where(fk.in_(set(parent_ids)))
            if hidden is not None:
                counted = counted.where(getattr(model, hidden).is_(False))
            result = await self.db.execute(counted.group_by(fk))
            counts = dict(result.all())
            return [int(counts.get(p, 0)) for p in parent_ids]

        return self._many(f"counts:{model.__name__}:{fk_name}:{hidden}", fetch)
