"""European Citizens' Initiative figures (Regulation (EU) 2019/788), read from petition/data/.

The per-country minimum is seats in the European Parliament x 705 for initiatives registered before
16 July 2024 and seats x 720 from then on; see petition/data/README.md for the sources.
"""

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

GOAL_TOTAL = 1_000_000
MIN_COUNTRIES = 7
MAX_COLLECTION_MONTHS = 12
SEATS_2024_FROM = date(2024, 7, 16)


@dataclass(frozen=True)
class MemberState:
    code: str
    eu_code: str
    name: str
    min_2019: int
    min_2024: int
    min_age: int


@cache
def member_states() -> dict[str, MemberState]:
    text = resources.files("petition.data").joinpath("eci_member_states.csv").read_text("utf-8")
    return {
        row["code"]: MemberState(
            code=row["code"],
            eu_code=row["eu_code"],
            name=row["name"],
            min_2019=int(row["min_signatories_2019"]),
            min_2024=int(row["min_signatories_2024"]),
            min_age=int(row["min_age"]),
        )
        for row in csv.DictReader(text.splitlines())
    }


@cache
def states_by_minimum_age() -> dict[int, tuple[str, ...]]:
    """{16: ("AT", "BE", …), 17: ("GR",), 18: (…)}: who may sign from which age, by nationality."""
    groups: dict[int, list[str]] = {}
    for code, state in sorted(member_states().items()):
        groups.setdefault(state.min_age, []).append(code)
    return {age: tuple(codes) for age, codes in sorted(groups.items())}


def usual_minimum_age() -> int:
    """The age most member states set (18): the others are the exceptions."""
    return max(states_by_minimum_age().items(), key=lambda item: len(item[1]))[0]


def minimum_ages_in_words() -> str:
    """ "16 in AT, BE, DE, EE, FI, MT; 17 in GR; 18 elsewhere" (English, for partners' documentation)."""
    usual = usual_minimum_age()
    ages = [f"{age} in {', '.join(codes)}" for age, codes in states_by_minimum_age().items() if age != usual]
    return "; ".join([*ages, f"{usual} elsewhere"])


def thresholds_for(registered_on: date) -> dict[str, int]:
    """Per-country minimums in force for an initiative registered on that date."""
    use_2024 = registered_on >= SEATS_2024_FROM
    return {code: (s.min_2024 if use_2024 else s.min_2019) for code, s in member_states().items()}
