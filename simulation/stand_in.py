"""Stand-in calendar years for rehearsing an undated call: it runs at today's date and may reach a year whose
official holiday list is not published yet; the simulation counts weekends only there, and says so in `source`."""

from __future__ import annotations

from datetime import date

from models.call import CalendarYear, CallDefinition
from models.holidays import official_year

YEARS_AHEAD = 2


def with_stand_in_years(call: CallDefinition, today: date) -> CallDefinition:
    """An undated call with a weekends-only list for each missing year up to YEARS_AHEAD after `today`."""
    if call.dated_instants():
        return call
    shipped = {y.year for y in call.calendar}
    missing = [CalendarYear(year=year, source="simulation stand-in: weekends only, not an official arrangement",
                            holidays=[]) for year in range(today.year, today.year + YEARS_AHEAD + 1)
               if year not in shipped and official_year(year) is None]
    return call.model_copy(update={"calendar": [*call.calendar, *missing]}) if missing else call
