"""Threshold rules as data: the ECI table, countries, and the 12-month limit."""

from datetime import date

from petition.rules import eci
from petition.rules.countries import iso_countries, normalise_country
from petition.rules.progress import build_progress
from petition.services.petitions import add_months, latest_eci_closing


def test_the_eci_table_has_27_states_and_the_documented_sums():
    states = eci.member_states()
    assert len(states) == 27
    assert sum(s.min_2024 for s in states.values()) == 518_400
    assert sum(s.min_2019 for s in states.values()) == 497_025
    assert states["GR"].eu_code == "EL"


def test_greece_is_accepted_as_el_and_the_uk_as_uk():
    assert normalise_country(" el ") == "GR"
    assert normalise_country("uk") == "GB"


def test_iso_countries_exclude_groupings():
    countries = iso_countries()
    assert {"RS", "DE", "US", "GR"} <= countries
    assert not {"EU", "UN", "EZ", "ZZ", "EL"} & countries
    assert all(len(code) == 2 for code in countries)


def test_twelve_months_of_collection_end_on_the_same_date_a_year_later():
    assert latest_eci_closing(date(2026, 11, 26)) == date(2027, 11, 26)
    assert latest_eci_closing(date(2024, 2, 29)) == date(2025, 2, 28)  # no 29th: never past 12 months
    assert latest_eci_closing(date(2026, 12, 31)) == date(2027, 12, 31)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def test_the_minimum_ages_come_from_the_shipped_table():
    ages = eci.states_by_minimum_age()
    assert ages[16] == ("AT", "BE", "DE", "EE", "FI", "MT")
    assert ages[17] == ("GR",)
    assert len(ages[18]) == 20 and eci.usual_minimum_age() == 18
    assert eci.minimum_ages_in_words() == "16 in AT, BE, DE, EE, FI, MT; 17 in GR; 18 elsewhere"


def test_a_share_short_of_the_whole_never_reads_as_all_of_it():
    from petition.rules.progress import share_to_show

    assert share_to_show(69_119 / 69_120) == 0.999  # one signature short: 99.9 %
    assert share_to_show(69_120 / 69_120) == 1.0
    assert share_to_show(1.4) == 1.4
    assert share_to_show(0.5) == 0.5
    assert share_to_show(0.9996, decimals=0) == 0.99  # 99 %, not 100 %


def test_an_eci_goal_needs_the_total_and_seven_countries():
    thresholds = eci.thresholds_for(date(2026, 1, 1))
    six = {code: thresholds[code] for code in ("BE", "BG", "CZ", "DK", "EE", "IE")}
    six["DE"] = eci.GOAL_TOTAL - sum(six.values())  # a million, six of them plus Germany
    progress = build_progress(six, thresholds, eci.GOAL_TOTAL, eci.MIN_COUNTRIES)
    assert progress.total == 1_000_000 and progress.countries_reached == 7
    assert progress.goal_reached

    short = dict(six, BE=thresholds["BE"] - 1, DE=six["DE"] + 1)
    progress = build_progress(short, thresholds, eci.GOAL_TOTAL, eci.MIN_COUNTRIES)
    assert progress.total == 1_000_000 and progress.countries_reached == 6
    assert not progress.goal_reached


def test_a_million_in_too_few_countries_does_not_reach_the_eci_goal():
    thresholds = eci.thresholds_for(date(2026, 1, 1))
    counts = {"DE": 600_000, "FR": 400_000}
    progress = build_progress(counts, thresholds, eci.GOAL_TOTAL, eci.MIN_COUNTRIES)
    assert progress.total == 1_000_000 and progress.countries_reached == 2
    assert not progress.goal_reached
