"""`labrunner restore-to-time --time` reads the times learners copy: incident logs write "... UTC"."""

from datetime import datetime, timezone

import pytest

from labrunner.cli.restore_to_time import parse_time
from labrunner.errors import UsageError


@pytest.mark.parametrize("text", ["2026-11-30 22:10:05.123 UTC", "2026-11-30 22:10:05.123UTC",
                                  "2026-11-30T22:10:05.123Z", "2026-11-30 22:10:05.123+00",
                                  "2026-11-30 23:10:05.123+01:00", "2026-11-30 22:10:05.123 gmt"])
def test_a_time_with_its_zone_in_any_written_form(text):
    assert parse_time(text) == datetime(2026, 11, 30, 22, 10, 5, 123000, tzinfo=timezone.utc)


def test_not_a_time_is_a_usage_error():
    with pytest.raises(UsageError):
        parse_time("yesterday UTC")
