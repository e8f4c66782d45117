"""Parsing `--sim-fault KIND@T[:ARG]` specs (the simulator-side effects are in test_treadmill_*)."""

from __future__ import annotations

import pytest

from simulators.faults import FAULT_KINDS, FaultKind, FaultSpec, RejectTarget, parse_fault


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("overspeed@300:1.5", FaultSpec(FaultKind.OVERSPEED, 300.0, 1.5)),
        ("disconnect@90:2", FaultSpec(FaultKind.DISCONNECT, 90.0, 2.0)),
        ("disconnect@90", FaultSpec(FaultKind.DISCONNECT, 90.0, 2.0)),
        ("reject@0:start", FaultSpec(FaultKind.REJECT, 0.0, RejectTarget.START)),
        (
            "reject@5:request-control",
            FaultSpec(FaultKind.REJECT, 5.0, RejectTarget.REQUEST_CONTROL),
        ),
        ("hr@120:190", FaultSpec(FaultKind.HR, 120.0, 190.0)),
        ("safety-key@12.5", FaultSpec(FaultKind.SAFETY_KEY, 12.5, None)),
        ("console-stop@1", FaultSpec(FaultKind.CONSOLE_STOP, 1.0, None)),
        ("stall@30", FaultSpec(FaultKind.STALL, 30.0, None)),
        ("no-indication@0", FaultSpec(FaultKind.NO_INDICATION, 0.0, None)),
        ("control-lost@45", FaultSpec(FaultKind.CONTROL_LOST, 45.0, None)),
        ("hr-drop@60", FaultSpec(FaultKind.HR_DROP, 60.0, 30.0)),
        ("hr-drop@60:20", FaultSpec(FaultKind.HR_DROP, 60.0, 20.0)),
        ("hr-contact@60", FaultSpec(FaultKind.HR_CONTACT, 60.0, None)),
        ("struggle@90:0.6", FaultSpec(FaultKind.STRUGGLE, 90.0, 0.6)),
    ],
)
def test_valid_specs_parse(spec: str, expected: FaultSpec) -> None:
    assert parse_fault(spec) == expected


def test_every_kind_of_the_spec_is_known_plus_control_lost_and_struggle() -> None:
    assert set(FAULT_KINDS) == {
        "struggle",
        "control-lost",
        "disconnect",
        "safety-key",
        "console-stop",
        "overspeed",
        "stall",
        "reject",
        "no-indication",
        "hr",
        "hr-drop",
        "hr-contact",
    }


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ("overspeed", "KIND@T"),
        ("warp@3", "unknown kind"),
        ("overspeed@abc:1.5", "not a number"),
        ("overspeed@-1:1.5", ">= 0"),
        ("overspeed@10", "speed factor"),
        ("overspeed@10:0", "> 0"),
        ("reject@0", "needs an operation"),
        ("reject@0:launch", "unknown"),
        ("hr@10:400", "0 to 254"),
        ("hr@10", "heart rate"),
        ("stall@10:3", "no argument"),
        ("control-lost@10:3", "no argument"),
        ("disconnect@10:0", "> 0"),
        ("disconnect@nan", "finite"),
    ],
)
def test_malformed_specs_raise_one_readable_line(spec: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint) as caught:
        parse_fault(spec)
    assert "\n" not in str(caught.value)
    assert spec in str(caught.value)


def test_an_unknown_kind_lists_every_valid_one() -> None:
    with pytest.raises(ValueError, match="unknown kind") as caught:
        parse_fault("lost-control@3")
    for kind in FAULT_KINDS:
        assert kind in str(caught.value)


def test_a_spec_prints_back_as_it_was_written() -> None:
    for spec in ("overspeed@300:1.5", "reject@0:start", "stall@30"):
        assert str(parse_fault(spec)) == spec
