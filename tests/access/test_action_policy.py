"""Who may agree, own, update and see actions (issue 13, item 3), asked of the policy on
hand-built scopes: no warehouse needed."""

from __future__ import annotations

from empowered.access.policy import (
    Scope,
    may_agree_action,
    may_own_action,
    may_update_action,
    sees_school_actions,
)
from empowered.access.roles import Role
from empowered.access.users import User

A, B = "100001", "100002"


def _scope(user_id: int, role: Role, *, pupils: frozenset[str] | None = None) -> Scope:
    school = None if role in (Role.TRUST_ADMIN, Role.TRUST_ANALYST) else A
    user = User(user_id, role.value, role, school, (), (), (), None, False, False)
    whole = role in (Role.SENCO, Role.DSL)
    return Scope(
        user,
        None if school is None else frozenset({school}),
        None if whole or school is None else (pupils or frozenset()),
        role is not Role.TRUST_ANALYST,
        None,
        role in (Role.VISITING_PROFESSIONAL, Role.TRUST_ANALYST),
        school_pupils=frozenset({"pa1", "pa2"}) if whole else None,
    )


SENCO, DSL = _scope(2, Role.SENCO), _scope(3, Role.DSL)
TEACHER = _scope(4, Role.TEACHER, pupils=frozenset({"pa1"}))
TA = _scope(5, Role.TEACHING_ASSISTANT, pupils=frozenset({"pa2"}))
ADMIN, VISITOR = _scope(1, Role.TRUST_ADMIN), _scope(6, Role.VISITING_PROFESSIONAL)


def test_the_senco_and_the_dsl_agree_actions_at_their_own_school_only() -> None:
    assert may_agree_action(SENCO, A, "pa1") and may_agree_action(DSL, A, "pa2")
    assert not may_agree_action(SENCO, B, "pa1")  # another school
    assert not may_agree_action(SENCO, A, "pb9")  # not on roll here
    for scope in (TEACHER, TA, ADMIN, VISITOR):
        assert not may_agree_action(scope, A, "pa1")


def test_an_action_goes_only_to_school_staff_who_see_the_pupil() -> None:
    assert may_own_action(TEACHER, "pa1") and not may_own_action(TEACHER, "pa2")
    assert may_own_action(TA, "pa2") and may_own_action(SENCO, "pa2")
    assert not may_own_action(ADMIN, "pa1") and not may_own_action(VISITOR, "pa1")


def test_an_owner_always_updates_their_own_and_no_one_else_but_the_leads() -> None:
    mine = "app-user-4"  # the teacher's account
    assert may_update_action(TEACHER, mine, A)
    assert not may_update_action(TA, mine, A)
    assert not may_update_action(TEACHER, "app-user-5", A)
    assert may_update_action(SENCO, mine, A) and may_update_action(DSL, None, A)
    assert not may_update_action(SENCO, mine, B)
    assert not may_update_action(ADMIN, mine, A) and not may_update_action(VISITOR, mine, A)


def test_the_schools_list_is_for_the_leads_and_the_trust_admin() -> None:
    assert sees_school_actions(SENCO, A) and sees_school_actions(DSL, A)
    assert sees_school_actions(ADMIN, B)
    assert not sees_school_actions(SENCO, B)
    for scope in (TEACHER, TA, VISITOR):
        assert not sees_school_actions(scope, A)
