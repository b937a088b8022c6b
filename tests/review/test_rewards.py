"""Every reward rule of the Shenzhen measures, on the pure reward computation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cases.rewards import ConfirmedCase, PolicyError, Reporter, compute, load_policy

POLICY = load_policy()
NAMED = {
    r: Reporter(r, real_name=f"name {r}", payment_account=f"acct {r}") for r in ("a", "b", "c", "d")
}
T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def case(
    n: int,
    violation: str = "bus_lane",
    who: tuple[str, ...] = ("a",),
    at: datetime = T0,
    incident: str | None = None,
    exclusions: tuple[tuple[str, str], ...] = (),
) -> ConfirmedCase:
    return ConfirmedCase(f"c{n}", incident or f"i{n}", violation, at, who, exclusions)


def paid(lines: list, who: str = "a") -> int:  # type: ignore[type-arg]
    return sum(line.amount_fen for line in lines if line.reporter_id == who) // 100


def test_amount_per_item() -> None:
    lines = compute(
        [
            case(1, "bus_lane"),
            case(2, "emergency_lane"),
            case(3, "covered_plate"),
            case(4, "cloned_plate"),
        ],
        NAMED,
        POLICY,
    )
    assert [(line.item, line.amount_fen // 100) for line in lines] == [
        (44, 20),
        (37, 50),
        (11, 2000),
        (6, 2000),
    ]
    assert all(line.status == "payable" for line in lines)


def test_unrewarded_violation_types_make_no_line() -> None:
    assert compute([case(1, "other"), case(2, "unspecified")], NAMED, POLICY) == []


def test_monthly_cap_per_group_cuts_the_last_reward_and_withholds_the_rest() -> None:
    # item 44 pays 20 yuan, capped at 200 a month: ten cases fill the cap, the 11th gets nothing
    cases = [case(i, at=T0 + timedelta(hours=i)) for i in range(11)]
    lines = compute(cases, NAMED, POLICY)
    assert paid(lines) == 200
    assert lines[-1].status == "withheld" and "monthly cap of 200" in (lines[-1].reason or "")
    # 37 and 38-41 share one cap of 500: 10 x 50 fills it
    more = [case(100 + i, "emergency_lane", at=T0 + timedelta(hours=i)) for i in range(11)]
    assert paid(compute(more, NAMED, POLICY)) == 500


def test_cap_is_cut_to_what_is_left() -> None:
    # 9 x 20 = 180 paid; then item 44 again pays only the 20 left; a 50-yuan item of another
    # group is not affected
    cases = [case(i, at=T0 + timedelta(minutes=i)) for i in range(10)]
    cases.append(case(50, "emergency_lane", at=T0 + timedelta(hours=5)))
    lines = compute(cases, NAMED, POLICY)
    assert paid(lines) == 200 + 50


def test_monthly_caps_follow_local_time_across_the_month_boundary() -> None:
    # 2026-03-31 23:30 in Shenzhen is 15:30 UTC; 2026-04-01 00:30 local is 16:30 UTC
    march = [case(i, at=datetime(2026, 3, 31, 15, 30, tzinfo=UTC)) for i in range(10)]
    april_local = case(20, at=datetime(2026, 3, 31, 16, 30, tzinfo=UTC))  # still March in UTC
    lines = compute([*march, april_local], NAMED, POLICY)
    assert paid(lines) == 220
    assert lines[-1].month == "2026-04" and lines[-1].status == "payable"
    march_again = case(21, at=datetime(2026, 3, 31, 15, 59, tzinfo=UTC))  # 23:59 local March
    lines = compute([*march, march_again], NAMED, POLICY)
    assert paid(lines) == 200 and lines[-1].status == "withheld"


def test_item_45_pays_50_for_every_five_cases_capped_at_200() -> None:
    cases = [case(i, "illegal_parking", at=T0 + timedelta(minutes=i)) for i in range(24)]
    lines = compute(cases, NAMED, POLICY)
    payable = [line for line in lines if line.status == "payable"]
    assert [line.case_id for line in payable] == ["c4", "c9", "c14", "c19"]
    assert paid(lines) == 200  # the 25th case would be the fifth 50: capped
    assert lines[0].reason == "counted: 1 of 5 cases this month"
    cases.append(case(99, "illegal_parking", at=T0 + timedelta(minutes=99)))
    assert paid(compute(cases, NAMED, POLICY)) == 200
    # the count starts again in a new month
    april = [
        case(200 + i, "illegal_parking", at=datetime(2026, 4, 2, tzinfo=UTC)) for i in range(5)
    ]
    assert paid(compute(april, NAMED, POLICY)) == 50


@pytest.mark.parametrize(
    "affiliation",
    ["police", "auxiliary_police", "traffic_assistant", "trainee_police", "traffic_police_staff"],
)
def test_police_and_traffic_staff_get_no_reward(affiliation: str) -> None:
    officer = {"a": Reporter("a", "name", "acct", affiliation)}
    (line,) = compute([case(1)], officer, POLICY)
    assert line.status == "withheld" and line.amount_fen == 0
    assert line.reason == f"excluded: reporter is {affiliation.replace('_', ' ')}"


@pytest.mark.parametrize("why", ["accomplice", "victim"])
def test_accomplices_and_victims_marked_by_the_officer_get_no_reward(why: str) -> None:
    (line,) = compute([case(1, exclusions=(("a", why),))], NAMED, POLICY)
    assert line.status == "withheld" and line.reason == f"excluded: {why}"


def test_anonymous_reporters_need_a_real_name_and_account() -> None:
    anonymous = {"a": Reporter("a"), "b": Reporter("b", real_name="only a name")}
    lines = compute([case(1), case(2, who=("b",))], anonymous, POLICY)
    assert [line.status for line in lines] == ["withheld", "withheld"]
    assert all("real name" in (line.reason or "") for line in lines)


def test_joint_report_splits_evenly_to_the_fen() -> None:
    lines = compute([case(1, "emergency_lane", who=("a", "b", "c"))], NAMED, POLICY)
    assert [line.amount_fen for line in lines] == [1667, 1667, 1666]
    assert sum(line.amount_fen for line in lines) == 5000


def test_first_reporter_of_an_incident_wins() -> None:
    later = case(1, "emergency_lane", who=("b",), at=T0 + timedelta(minutes=5), incident="x")
    first = case(2, "emergency_lane", who=("a",), at=T0, incident="x")
    lines = compute([later, first], NAMED, POLICY)
    by_reporter = {line.reporter_id: line for line in lines}
    assert by_reporter["a"].status == "payable" and by_reporter["a"].amount_fen == 5000
    assert by_reporter["b"].status == "withheld" and "duplicate" in (by_reporter["b"].reason or "")


def test_policy_errors_name_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text(
        "version: x\ngroups: {g: {cap: 5}}\nitems: {44: {amount: 20, group: nope}}\n"
        "violations: {bus_lane: 44}\n"
    )
    with pytest.raises(PolicyError, match=r"items\.44\.group"):
        load_policy(bad)
    bad.write_text("version: x\ngroups: {}\nitems: {}\nviolations: {}\nbonus: 1\n")
    with pytest.raises(PolicyError, match="bonus"):
        load_policy(bad)
