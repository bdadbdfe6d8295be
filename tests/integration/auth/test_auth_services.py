"""Users with hashed passwords and API keys stored as hashes."""

from __future__ import annotations

import pytest

from tests.conftest import Database
from wms.auth.models import Role, Scope
from wms.auth.services import (
    authenticate,
    create_api_key,
    create_user,
    revoke_api_key,
    verify_api_key,
)
from wms.errors import AlreadyExists, Unauthorized, ValidationFailed


def test_a_user_signs_in_with_the_right_password_only(pg: Database) -> None:
    with pg.uow() as uow:
        create_user(uow, username="ola", display_name="Ola", role="operator", password="4321")
        uow.commit()
    assert "4321" not in str(pg.scalar("SELECT password_hash FROM users"))
    with pg.uow() as uow:
        assert authenticate(uow, username="ola", password="4321").role is Role.OPERATOR
        with pytest.raises(Unauthorized):
            authenticate(uow, username="ola", password="1234")
        with pytest.raises(Unauthorized):
            authenticate(uow, username="nobody", password="4321")


def test_bad_users_are_refused_and_nothing_is_written(pg: Database) -> None:
    with pg.uow() as uow:
        create_user(uow, username="ola", display_name="Ola", role="admin", password="secret")
        uow.commit()
    with pg.uow() as uow:
        with pytest.raises(AlreadyExists):
            create_user(uow, username="ola", display_name="Ola", role="admin", password="secret")
        with pytest.raises(ValidationFailed, match="role"):
            create_user(uow, username="ana", display_name="Ana", role="boss", password="secret")
        with pytest.raises(ValidationFailed, match="4 characters"):
            create_user(uow, username="ana", display_name="Ana", role="planner", password="12")
    assert pg.count("users") == 1


def test_an_api_key_is_shown_once_and_stored_as_a_hash(pg: Database) -> None:
    with pg.uow() as uow:
        issued = create_api_key(uow, name="shop", scopes=["storefront"])
        uow.commit()
    assert issued.key.startswith("wms_")
    assert issued.key.split("_", 2)[2] not in str(pg.scalar("SELECT key_hash FROM api_keys"))
    with pg.uow() as uow:
        principal = verify_api_key(uow, key=issued.key)
    assert principal.allows(Scope.STOREFRONT)
    assert principal.allows(Scope.READ)
    assert not principal.allows(Scope.ADMIN)


def test_a_revoked_or_altered_key_is_refused(pg: Database) -> None:
    with pg.uow() as uow:
        issued = create_api_key(uow, name="shop", scopes=["read"])
        uow.commit()
    with pg.uow() as uow, pytest.raises(Unauthorized):
        verify_api_key(uow, key=issued.key[:-1] + ("A" if issued.key[-1] != "A" else "B"))
    with pg.uow() as uow:
        revoke_api_key(uow, key_id=issued.id)
        uow.commit()
    with pg.uow() as uow, pytest.raises(Unauthorized, match="revoked"):
        verify_api_key(uow, key=issued.key)


def test_admin_keys_hold_every_scope_and_unknown_scopes_are_refused(pg: Database) -> None:
    with pg.uow() as uow:
        admin = create_api_key(uow, name="ops", scopes=["admin"])
        with pytest.raises(ValidationFailed, match="unknown scope"):
            create_api_key(uow, name="x", scopes=["superuser"])
        principal = verify_api_key(uow, key=admin.key)
    assert all(principal.allows(scope) for scope in Scope)
