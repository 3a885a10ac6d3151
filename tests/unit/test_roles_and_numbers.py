import pytest

from grants.domain.file_numbers import format_file_number, parse_file_number
from grants.domain.roles import FRONT_DOOR, PERMISSIONS, Perm, Role, can, parse_role


def test_every_role_has_a_front_door_and_permissions():
    assert set(FRONT_DOOR) == set(Role) == set(PERMISSIONS)


def test_roles_do_not_leak_into_each_other():
    assert can(Role.CHAIR, Perm.VOTE) and can(Role.CHAIR, Perm.CHAIR_SESSION)
    assert not can(Role.COMMITTEE, Perm.CHAIR_SESSION)
    assert not can(Role.APPLICANT, Perm.VIEW_ALL_CASES)
    assert not can(Role.ADMIN, Perm.FINANCE_RELEASE)
    assert not can("nonsense", Perm.APPLY)


def test_parse_role_names_the_allowed_ones():
    assert parse_role(" Finance ") == Role.FINANCE
    with pytest.raises(ValueError, match="applicant, staff"):
        parse_role("boss")


def test_file_numbers():
    assert format_file_number("DQD", 2026, 42) == "DQD-2026-0042"
    assert parse_file_number("dqd-2026-0042") == ("DQD", 2026, 42)
    assert parse_file_number("DQD-26-42") is None
    with pytest.raises(ValueError):
        format_file_number("dq d", 2026, 1)
