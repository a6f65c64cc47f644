"""Forms of the execution pages: list filters (from the URL) and the admin action forms."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from core.formatting import timezone_label
from executions.selectors import SORTS, ActionFilters, ExecutionFilters, HistoryFilters, OperationFilters
from executions.statuses import ActionKind, ActionOutcome

MAX_ID = 2**31 - 1


def ids_parse(raw) -> list[int]:
    """Row ids from a form's repeated values: ASCII digits within the 32-bit range; anything else is dropped."""
    values = {int(v) for v in raw if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) <= 10}
    return sorted(v for v in values if 0 < v <= MAX_ID)


def _aware(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(datetime.combine(value, time.min))


class OpenMultipleChoiceField(forms.MultipleChoiceField):
    """Statuses are an open set: a value the API invents tomorrow can still be filtered on."""

    def valid_value(self, value):
        return isinstance(value, str) and 0 < len(value) <= 32


class ExecutionFilterForm(forms.Form):
    status = OpenMultipleChoiceField(required=False, choices=())
    function = forms.CharField(required=False, max_length=170)
    started_after = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    started_before = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    q = forms.CharField(required=False, max_length=256, label="Name contains")
    attention = forms.BooleanField(required=False, label="Needs attention")
    failures = forms.BooleanField(required=False, label="Has failures")
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORTS])

    def __init__(self, *args, statuses: list[str], functions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s, s.replace("_", " ").capitalize()) for s in statuses]
        self.function_choices = functions
        zone = timezone_label()  # the date inputs are read in the site's time zone: the labels say which
        self.fields["started_after"].label = f"Started after ({zone})"
        self.fields["started_before"].label = f"Started before ({zone})"

    def clean_status(self):
        return list(dict.fromkeys(self.cleaned_data.get("status") or []))[:20]

    def filters(self) -> ExecutionFilters:
        self.is_valid()  # invalid fields are simply left out of cleaned_data
        data = self.cleaned_data
        return ExecutionFilters(
            statuses=data.get("status") or [],
            function=data.get("function") or "",
            started_after=_aware(data.get("started_after")),
            started_before=_aware(data.get("started_before")),
            name=(data.get("q") or "").strip(),
            attention=bool(data.get("attention")),
            failures=bool(data.get("failures")),
            sort=data.get("sort") or "-started",
        )


class HistoryFilterForm(forms.Form):
    type = forms.CharField(required=False, max_length=64)
    failures = forms.BooleanField(required=False)
    name = forms.CharField(required=False, max_length=256)

    def filters(self) -> HistoryFilters:
        self.is_valid()
        data = self.cleaned_data
        return HistoryFilters(
            event_type=data.get("type") or "", failures_only=bool(data.get("failures")), name=data.get("name") or ""
        )


class OperationFilterForm(forms.Form):
    """The operations table's filters; their names start with "o" so they live beside the history's."""

    ostatus = forms.CharField(required=False, max_length=32)
    otype = forms.CharField(required=False, max_length=32)
    oname = forms.CharField(required=False, max_length=256)
    ofailures = forms.BooleanField(required=False)
    opage = forms.IntegerField(required=False, min_value=1, max_value=10_000)

    def filters(self) -> OperationFilters:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return OperationFilters(
            status=data.get("ostatus") or "",
            op_type=data.get("otype") or "",
            name=data.get("oname") or "",
            failures_only=bool(data.get("ofailures")),
        )

    def page_number(self) -> int:
        return (getattr(self, "cleaned_data", {}) or {}).get("opage") or 1

    @property
    def filtering(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return any(data.get(name) for name in ("ostatus", "otype", "oname", "ofailures"))


class ActionFilterForm(forms.Form):
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *ActionKind.choices])
    outcome = forms.ChoiceField(required=False, choices=[("", "Any outcome"), *ActionOutcome.choices])
    user = forms.CharField(required=False, max_length=150)
    execution = forms.CharField(required=False, max_length=256)

    def filters(self) -> ActionFilters:
        self.is_valid()
        data = self.cleaned_data
        return ActionFilters(
            action=data.get("action") or "",
            outcome=data.get("outcome") or "",
            username=data.get("user") or "",
            execution=(data.get("execution") or "").strip(),
        )


def since_parse(value: str) -> tuple[str, datetime | None]:
    """`24h`, `7d`, `30d` or `all` → (normalised value, start time)."""
    spans = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
    if value in spans:
        return value, timezone.now() - spans[value]
    return "all", None


class ActionForm(forms.Form):
    """Every admin action: a reason and an explicit confirmation (confirm=yes)."""

    reason = forms.CharField(
        max_length=2000,
        required=True,
        widget=forms.TextInput(attrs={"placeholder": "Why (kept in the audit log)", "autocomplete": "off"}),
    )
    confirm = forms.CharField(required=True, max_length=8)
    nonce = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, reason_required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
        if not self.is_bound:
            self.initial.setdefault("nonce", uuid.uuid4().hex)

    def clean_reason(self):
        return (self.cleaned_data.get("reason") or "").strip()

    def clean_confirm(self):
        value = (self.cleaned_data.get("confirm") or "").strip().lower()
        if value != "yes":
            raise forms.ValidationError("Confirm with yes.")
        return value

    def clean(self):
        cleaned = super().clean()
        if self.fields["reason"].required and not cleaned.get("reason") and "reason" not in self.errors:
            self.add_error("reason", "A reason is required.")
        return cleaned


class FailCallbackForm(ActionForm):
    # Callbacks that are not overdue yet need a second, explicit confirmation.
    confirm_early = forms.CharField(required=False, max_length=8)


class StopForm(ActionForm):
    error_type = forms.CharField(required=False, max_length=256, initial="ManualStop")

    def clean_error_type(self):
        return (self.cleaned_data.get("error_type") or "").strip() or "ManualStop"


class BulkFailForm(ActionForm):
    """Fail several overdue callbacks at once; `targets` are Operation ids of this database."""

    def clean(self):
        cleaned = super().clean()
        raw = self.data.getlist("targets") if hasattr(self.data, "getlist") else []
        targets = ids_parse(raw)
        if not targets:
            raise forms.ValidationError("Select at least one callback.")
        cleaned["targets"] = targets[:200]
        return cleaned


class PauseForm(ActionForm):
    # keep_timeout=yes: the execution timeout keeps running while paused (ExecutionTimeoutPaused=false).
    keep_timeout = forms.CharField(required=False, max_length=8)

    def clean_keep_timeout(self):
        return (self.cleaned_data.get("keep_timeout") or "").strip().lower() == "yes"


class BulkExecutionsForm(PauseForm):
    """Pause or resume several executions of a filtered list at once; `targets` are Execution ids."""

    def clean(self):
        cleaned = super().clean()
        raw = self.data.getlist("targets") if hasattr(self.data, "getlist") else []
        targets = ids_parse(raw)
        if not targets:
            raise forms.ValidationError("Select at least one execution.")
        cleaned["targets"] = targets[:200]
        return cleaned
