"""The ``keywarden`` command: serve, migrate, backup, schema, tenants, login, demo, factory data."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from app.config import ConfigError, Settings, get_settings, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        load_settings()  # a bad variable stops every command before it starts
    except ConfigError as exc:
        print(f"keywarden: configuration error:\n{exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"keywarden: {exc}", file=sys.stderr)
        return 1


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="keywarden", description=__doc__)
    sub = p.add_subparsers(metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the API (GraphQL at /graphql)")
    serve.add_argument("--host", help="default: $HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, help="default: $PORT or 8000")
    serve.add_argument(
        "--fd",
        type=int,
        metavar="N",
        help="serve on this inherited, already listening socket instead of --host/--port "
        "(socket activation: nothing can take the port between binding and serving)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="serve from N processes on one listening socket (default 1); more than one "
        "needs REDIS_URL and a PostgreSQL DATABASE_URL, which the processes share",
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run Dramatiq workers (needs BROKER_URL or REDIS_URL)")
    worker.add_argument("--processes", type=int, default=1)
    worker.add_argument("--threads", type=int, default=2)
    worker.set_defaults(func=cmd_worker)

    datacenter = sub.add_parser("datacenter", help="run the simulated vendor data center (R2)")
    datacenter.add_argument("--host", default="127.0.0.1")
    datacenter.add_argument("--port", type=int, default=8900)
    datacenter.set_defaults(func=cmd_datacenter)

    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        func=cmd_migrate
    )
    backup = sub.add_parser("backup", help="copy the SQLite database to FILE, online (R3)")
    backup.add_argument("file", type=Path, metavar="FILE")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="put the SQLite backup FILE in place of the database")
    restore.add_argument("file", type=Path, metavar="FILE")
    restore.add_argument(
        "--force", action="store_true", help="even while a running server holds the database"
    )
    restore.set_defaults(func=cmd_restore)
    sub.add_parser("schema", help="print the served GraphQL schema (SDL)").set_defaults(
        func=cmd_schema
    )

    tenant = sub.add_parser("tenant", help="manage tenants").add_subparsers(metavar="ACTION")
    create = tenant.add_parser("create", help="create a tenant and print its Superadmin token")
    create.add_argument("--name", required=True)
    create.add_argument("--hosting", choices=["hosted", "purchased"], default="hosted")
    create.add_argument(
        "--approver-function", action="store_true", help="R29: chosen now, never changeable"
    )
    create.add_argument(
        "--data-center", action="store_true", help="connected to the vendor's data center (R2)"
    )
    create.add_argument("--demo", action="store_true", help="seed the demo system into it")
    create.set_defaults(func=cmd_tenant_create)

    login = sub.add_parser("login", help="log in with a (simulated) programming key and PIN")
    login.add_argument("--tenant", required=True, help="tenant id")
    login.add_argument("--key", required=True, help="programming key marking")
    login.add_argument("--pin", required=True)
    login.add_argument("--url", help="log in through a running server's GraphQL endpoint")
    login.set_defaults(func=cmd_login)

    link = sub.add_parser(
        "sign-in-link", help="print a one-time link that signs a browser in as a programming key"
    )
    link.add_argument("--tenant", required=True, help="tenant id")
    link.add_argument("--key", required=True, help="programming key marking, e.g. PR-0001")
    link.set_defaults(func=cmd_sign_in_link)

    demo = sub.add_parser("demo", help="create the demo tenant and print how to log in")
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="only if no demo tenant exists yet (else show its credentials)",
    )
    demo.set_defaults(func=cmd_demo)

    factory = sub.add_parser("factory", help="development factory data").add_subparsers(
        metavar="KIND"
    )
    ext = factory.add_parser("extension", help="write a signed extension file (R31)")
    ext.add_argument("--out", type=Path, required=True)
    ext.add_argument("--order", default=None, help="order number")
    ext.add_argument("--keys", type=int, default=0, help="number of new user keys")
    ext.add_argument("--key-type", choices=["E1", "E2", "E3"], default="E3")
    ext.add_argument("--generation", choices=["GEN1", "GEN2"], default="GEN2")
    ext.add_argument("--firmware", default=None, help="key firmware (default by generation)")
    ext.add_argument("--cylinders", type=int, default=0, help="number of new cylinders")
    ext.add_argument(
        "--clone",
        action="append",
        default=[],
        metavar="MARKING",
        help="a replacement cylinder with an existing marking (R32); repeatable",
    )
    ext.add_argument("--programming-keys", type=int, default=0)
    ext.add_argument("--remote-devices", type=int, default=0)
    ext.add_argument(
        "--device",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="a device's own factory record (remoteDevices[] entry, JSON), e.g. from "
        "`python -m hardware.sim wall new`; repeatable",
    )
    ext.add_argument("--prefix", default=None, help="marking prefix (default: random)")
    ext.set_defaults(func=cmd_factory_extension)
    fw = factory.add_parser("firmware", help="write a signed firmware file (R25, R26)")
    fw.add_argument("--out", type=Path, required=True)
    fw.add_argument(
        "--target",
        required=True,
        choices=["KEY_GEN1", "KEY_GEN2", "REMOTE_DEVICE", "REMOTE_BOOTLOADER"],
    )
    fw.add_argument("--version", required=True, help="e.g. 16.3.7 (GEN1 keys: up to 6.x)")
    fw.add_argument("--bundle", default="Default CCB", help="certificate bundle it is built for")
    fw.add_argument("--size", type=int, default=64 * 1024, help="image size in bytes")
    fw.add_argument("--notes", default="", help="release notes")
    fw.set_defaults(func=cmd_factory_firmware)
    vendor = factory.add_parser("vendor-key", help="print the development vendor public key")
    vendor.set_defaults(func=cmd_factory_vendor_key)
    return p


# --- commands -------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from app.serve import ServeError, serve

    try:
        return serve(
            get_settings(), host=args.host, port=args.port, fd=args.fd, workers=args.workers
        )
    except ServeError as exc:
        raise CliError(str(exc)) from None


def cmd_worker(args: argparse.Namespace) -> int:
    from app.workers.main import run_worker

    return run_worker(get_settings(), processes=args.processes, threads=args.threads)


def cmd_datacenter(args: argparse.Namespace) -> int:
    from app.datacenter.server import main as serve_data_center

    return serve_data_center(args.host, args.port, get_settings().var_dir)


def cmd_migrate(args: argparse.Namespace) -> int:
    from app.migrate import upgrade

    upgrade(get_settings())
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from app.ops.backup import BackupError, backup, database_path

    settings = get_settings()
    try:
        copy = backup(settings, args.file)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    print(
        f"backed up {database_path(settings)} to {copy.path}: {copy.size:,} bytes, "
        f"{copy.tenants} tenant(s), migration revision {copy.revision}"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from app.ops.backup import BackupError, database_path, restore

    settings = get_settings()
    try:
        restored, held = restore(settings, args.file, force=args.force)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    print(
        f"restored {database_path(settings)} from {restored.path}: {restored.tenants} "
        f"tenant(s), migration revision {restored.revision}"
    )
    if not restored.at_head:
        print(f"it is behind this version's revision {restored.head}: run `keywarden migrate`")
    if held:
        print("another process held the database: restart it before it writes again")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from app.schema import printed_schema

    print(printed_schema())
    return 0


def cmd_tenant_create(args: argparse.Namespace) -> int:
    result = asyncio.run(
        create_tenant_with_token(
            get_settings(),
            name=args.name,
            hosting=args.hosting,
            approver_function=args.approver_function,
            data_center=args.data_center,
            demo=args.demo,
        )
    )
    print(json.dumps(result, indent=2))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = get_settings()
    saved = settings.var_dir / "demo.json"
    if args.if_empty and saved.exists():
        result = json.loads(saved.read_text())
        if asyncio.run(_tenant_exists(settings, result["tenant_id"])):
            _print_demo(result, again=True)
            return 0
    result = asyncio.run(
        create_tenant_with_token(
            settings,
            name="Demo Building Services",
            hosting="hosted",
            approver_function=False,
            data_center=False,
            demo=True,
        )
    )
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(result, fh, indent=2)
    _print_demo(result, again=False)
    return 0


def cmd_sign_in_link(args: argparse.Namespace) -> int:
    from app.errors import DomainError

    settings = get_settings()
    try:
        code = asyncio.run(_new_sign_in_link(settings, args.tenant, args.key))
        print(sign_in_url(settings, code))
    except DomainError as exc:
        print(f"keywarden: {exc.message}", file=sys.stderr)
        return 1
    return 0


def sign_in_url(settings: Settings, code: str) -> str:
    """The web manager's address that signs in with ``code``: in the fragment, which the
    browser never sends to a server or a Referer."""
    return f"http://{settings.host}:{settings.port}/sign-in#link={code}"


async def _new_sign_in_link(settings: Settings, tenant_id: str, marking: str) -> str:
    from app.auth.sign_in_links import create_sign_in_link
    from app.db import Database

    database = Database(settings)
    try:
        async with database.tenant_session(tenant_id) as session:
            code = await create_sign_in_link(session, marking)
            await session.commit()
            return code
    finally:
        await database.dispose()


def cmd_login(args: argparse.Namespace) -> int:
    settings = get_settings()
    from app.demo_keys import load_key_pair

    try:
        key = load_key_pair(settings.simulator_state_path, args.tenant, args.key)
    except KeyError as exc:
        raise CliError(str(exc.args[0]) if exc.args else str(exc)) from exc
    if args.url:
        token = _login_over_http(args.url, args.tenant, key, args.pin)
    else:
        token = asyncio.run(_login_in_process(settings, args.tenant, key, args.pin))
    print(token)
    return 0


def cmd_factory_extension(args: argparse.Namespace) -> int:
    from app.factory.extension_file import make_extension_file
    from app.factory.vendor import load_or_create_dev_vendor_key

    settings = get_settings()
    prefix = args.prefix or secrets.token_hex(2).upper()
    firmware = args.firmware or ("6.1.0" if args.generation == "GEN1" else "16.3.7")

    def uid() -> str:
        return secrets.token_hex(8).upper()

    keys = [
        {
            "marking": f"{prefix}-K{i:04d}",
            "uid": uid(),
            "type": args.key_type,
            "generation": args.generation,
            "firmwareVersion": firmware,
        }
        for i in range(1, args.keys + 1)
    ]
    cylinders = [
        {"marking": f"{prefix}-C{i:04d}", "uid": uid(), "securityRelevant": False}
        for i in range(1, args.cylinders + 1)
    ] + [{"marking": marking, "uid": uid(), "securityRelevant": False} for marking in args.clone]
    programming_keys = [
        {
            "marking": f"{prefix}-PN{i:03d}",
            "uid": uid(),
            "kind": "SUB",
            "firmwareVersion": "12.3.0",
            "publicKey": secrets.token_hex(32),
        }
        for i in range(1, args.programming_keys + 1)
    ]
    devices = [
        {
            "serial": f"{prefix}-WPD{i:03d}",
            "kind": "WALL",
            "name": f"Wall device {prefix}-{i}",
            "firmwareVersion": "5.2.0",
            "bootloaderVersion": "2.1.0",
            "publicKey": secrets.token_hex(32),
            "potentialFreeOutput": False,
            "systemLinked": False,
        }
        for i in range(1, args.remote_devices + 1)
    ] + [_device_record(path) for path in args.device]
    data = make_extension_file(
        keys=keys,
        cylinders=cylinders,
        programming_keys=programming_keys,
        remote_devices=devices,
        signing_key=load_or_create_dev_vendor_key(settings.var_dir),
        order_number=args.order or f"ORD-{prefix}",
    )
    args.out.write_bytes(data)
    print(
        json.dumps(
            {
                "file": str(args.out),
                "keys": len(keys),
                "cylinders": len(cylinders),
                "clones": len(args.clone),
                "programmingKeys": len(programming_keys),
                "remoteDevices": len(devices),
            }
        )
    )
    return 0


def _device_record(path: Path) -> dict[str, Any]:
    """A device's factory record (``--device``): one JSON object, a ``remoteDevices[]`` entry."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"--device {path}: not a readable JSON file ({exc})") from exc
    if not isinstance(record, dict):
        raise CliError(f"--device {path}: a device record is one JSON object")
    return record


def cmd_factory_firmware(args: argparse.Namespace) -> int:
    from app.errors import DomainError
    from app.factory.firmware import demo_image, make_firmware_file
    from app.factory.vendor import load_or_create_dev_vendor_key

    if args.size < 1:
        raise CliError("--size must be at least 1 byte")
    try:
        data = make_firmware_file(
            target=args.target,
            version=args.version,
            image=demo_image(args.target, args.version, args.size),
            certificate_bundle=args.bundle,
            release_notes=args.notes,
            signing_key=load_or_create_dev_vendor_key(get_settings().var_dir),
        )
    except DomainError as exc:
        raise CliError(exc.message) from exc
    args.out.write_bytes(data)
    print(
        json.dumps(
            {
                "file": str(args.out),
                "target": args.target,
                "version": args.version,
                "size": args.size,
            }
        )
    )
    return 0


def cmd_factory_vendor_key(args: argparse.Namespace) -> int:
    from app.factory.vendor import load_or_create_dev_vendor_key, public_key_hex

    print(public_key_hex(load_or_create_dev_vendor_key(get_settings().var_dir)))
    return 0


# --- helpers --------------------------------------------------------------------


def trusted_vendor_keys(settings: Settings) -> list[str]:
    """Vendor keys a new tenant trusts: KEYWARDEN_VENDOR_PUBLIC_KEYS, else the dev key (R31)."""
    if configured := settings.configured_vendor_keys:
        return configured
    from app.factory.vendor import load_or_create_dev_vendor_key, public_key_hex

    return [public_key_hex(load_or_create_dev_vendor_key(settings.var_dir))]


async def create_tenant_with_token(
    settings: Settings,
    *,
    name: str,
    hosting: str,
    approver_function: bool,
    data_center: bool,
    demo: bool,
) -> dict[str, Any]:
    """Create a tenant (and optionally its demo system) and a Superadmin API token for it."""
    from app.auth.rights import BUILTIN_ROLES
    from app.auth.tokens import create_api_token
    from app.db import Database
    from app.models import HostingMode, new_tenant_id
    from app.tenants.service import create_tenant

    database = Database(settings)
    tenant_id = new_tenant_id()
    result: dict[str, Any] = {"tenant_id": tenant_id}
    vendor_keys = trusted_vendor_keys(settings)
    if demo:
        from app.factory.vendor import load_or_create_dev_vendor_key, public_key_hex

        # The demo's factory data comes from the development vendor: its tenant trusts that
        # key too, beside any configured vendor keys (R31).
        factory = load_or_create_dev_vendor_key(settings.var_dir)
        vendor_keys = list(dict.fromkeys([*vendor_keys, public_key_hex(factory)]))
    try:
        async with database.tenant_session(tenant_id) as session:
            await create_tenant(
                session,
                name=name,
                hosting_mode=HostingMode[hosting.upper()],
                approver_function=approver_function,
                data_center_connected=data_center,
                vendor_public_keys=vendor_keys,
            )
            _, token = await create_api_token(
                session,
                name=f"{name} Superadmin",
                rights=BUILTIN_ROLES["Superadmin"],
                domain_ids=None,
            )
            result["token"] = token
            if demo:
                from app.demo import seed_demo

                system = await seed_demo(
                    session, simulator_keys=settings.simulator_state_path, vendor_key=factory
                )
                result["programming_keys"] = system.programming_keys
            await session.commit()
    finally:
        await database.dispose()
    return result


async def _tenant_exists(settings: Settings, tenant_id: str) -> bool:
    from sqlalchemy import select

    from app.db import Database
    from app.models import Tenant

    database = Database(settings)
    try:
        async with database.tenant_session(tenant_id) as session:
            return await session.scalar(select(Tenant.id)) is not None
    except Exception:
        return False
    finally:
        await database.dispose()


async def _login_in_process(settings: Settings, tenant_id: str, key: Any, pin: str) -> str:
    from app.auth.login import complete_login, create_challenge
    from app.auth.pins import PinRejected
    from app.db import Database
    from app.errors import DomainError

    database = Database(settings)
    try:
        async with database.tenant_session(tenant_id) as session:
            try:
                challenge = await create_challenge(session, key.marking)
                nonce = challenge.nonce
                await session.commit()
                try:
                    _, token = await complete_login(
                        session,
                        challenge_nonce=nonce,
                        signature=key.sign_login(tenant_id, nonce),
                        pin=pin,
                        session_hours=settings.session_hours,
                    )
                except PinRejected:
                    await session.commit()
                    raise
                await session.commit()
            except DomainError as exc:
                raise CliError(f"{exc.code}: {exc.message}") from exc
    finally:
        await database.dispose()
    return token


def _graphql(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    import httpx

    endpoint = url.rstrip("/") + ("" if url.rstrip("/").endswith("/graphql") else "/graphql")
    try:
        response = httpx.post(
            endpoint,
            json={"query": query, "variables": variables},
            timeout=httpx.Timeout(30.0, connect=5.0),
        )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise CliError(f"{endpoint}: {type(exc).__name__} {exc}") from exc
    return response.json()  # type: ignore[no-any-return]


def _login_over_http(url: str, tenant_id: str, key: Any, pin: str) -> str:
    import base64

    step1 = _graphql(
        url,
        "mutation($i: RequestLoginChallengeInput!) { requestLoginChallenge(input: $i) "
        "{ challenge errors { code message } } }",
        {"i": {"tenantId": tenant_id, "marking": key.marking}},
    )["data"]["requestLoginChallenge"]
    if step1["errors"]:
        raise CliError(step1["errors"][0]["message"])
    nonce = step1["challenge"]
    signature = base64.b64encode(key.sign_login(tenant_id, nonce)).decode()
    step2 = _graphql(
        url,
        "mutation($i: CompleteLoginInput!) { completeLogin(input: $i) "
        "{ token errors { code message } } }",
        {"i": {"tenantId": tenant_id, "challenge": nonce, "signature": signature, "pin": pin}},
    )["data"]["completeLogin"]
    if step2["errors"]:
        raise CliError(f"{step2['errors'][0]['code']}: {step2['errors'][0]['message']}")
    return str(step2["token"])


def _print_demo(result: dict[str, Any], *, again: bool) -> None:
    settings = get_settings()
    head = "Demo tenant (created earlier)" if again else "Demo tenant created"
    print(f"{head}: {result['tenant_id']}")
    print(f"  Superadmin API token: {result['token']}")
    for key in result.get("programming_keys", []):
        roles = ", ".join(key["roles"])
        print(f"  programming key {key['marking']}  PIN {key['pin']}  roles: {roles}")
    print("  log in as a programming key holder:")
    first = (result.get("programming_keys") or [{"marking": "PR-0001", "pin": "<PIN>"}])[0]
    print(
        f"    keywarden login --tenant {result['tenant_id']} --key {first['marking']}"
        f" --pin {first['pin']}"
    )
    print(
        f"  GraphQL: http://{settings.host}:{settings.port}/graphql"
        "  (Authorization: Bearer <token>)"
    )
    superadmin = next(
        (k for k in result.get("programming_keys", []) if "Superadmin" in k["roles"]), None
    )
    if superadmin is not None:
        code = asyncio.run(_new_sign_in_link(settings, result["tenant_id"], superadmin["marking"]))
        print(f"  web manager, signed in as {superadmin['marking']} (one-time link, 15 minutes):")
        print(f"    {sign_in_url(settings, code)}")


if __name__ == "__main__":
    sys.exit(main())
