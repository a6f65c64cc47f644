"""A signed-in user's own display choices (the /account/ page)."""

from django.conf import settings
from django.db import models


class TimeDisplay(models.TextChoices):
    ABSOLUTE = "absolute", "Absolute: 6 Dec 2026, 14:03 UTC (relative on hover)"
    RELATIVE = "relative", "Relative: 3 m ago (the date and time on hover)"


class AccountPreference(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="console_preference")
    time_display = models.CharField(max_length=16, choices=TimeDisplay.choices, default=TimeDisplay.ABSOLUTE)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: times {self.time_display}"
