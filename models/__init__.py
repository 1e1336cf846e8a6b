"""Data of grantflow: call definitions, calendars, timetables, the lifecycle declaration, messages, records."""
