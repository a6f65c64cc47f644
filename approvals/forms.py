from django import forms

from approvals.models import DecisionKind, Outcome
from core.formatting import timezone_label


class ApproveForm(forms.Form):
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "A reason is required to reject an order."},
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A reason is required to reject an order.")
        return reason


# The deadline windows the inbox filters by: the order's deadline falls within this much time from now.
DUE_WINDOWS = {"1h": 3600, "4h": 4 * 3600, "24h": 24 * 3600}
BULK_MAX = 20  # orders one bulk approval may decide (each is one full decision, bounded in time)


class InboxFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)
    amount_min = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    amount_max = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    due = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any deadline"),
            ("1h", "Due within 1 hour"),
            ("4h", "Due within 4 hours"),
            ("24h", "Due within 24 hours"),
        ],
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Oldest first"),
            ("deadline", "Deadline, soonest first"),
            ("amount", "Amount, highest first"),
            ("amount_asc", "Amount, lowest first"),
        ],
    )
    cursor = forms.CharField(required=False)  # validated (signature, shape, length) by the selector

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("amount_min"), cleaned.get("amount_max")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError("The minimum amount is above the maximum amount.")
        return cleaned


class _OrderIdsField(forms.MultipleChoiceField):
    """Order ids from the inbox's checkboxes: any id of a plausible length (each row is then checked by itself)."""

    def valid_value(self, value):
        return 0 < len(str(value)) <= 128


class BulkApproveForm(forms.Form):
    """Approve several inbox rows with one comment: each row is one full decision (four-eyes, claim, audit)."""

    order = _OrderIdsField(error_messages={"required": "Select at least one order to approve."})
    comment = forms.CharField(required=False, max_length=2000)

    def clean_order(self):
        ids = list(dict.fromkeys(self.cleaned_data["order"]))  # the same order twice is decided once
        if len(ids) > BULK_MAX:
            raise forms.ValidationError(f"Approve at most {BULK_MAX} orders at once (you selected {len(ids)}).")
        return ids


class DecisionFilterForm(forms.Form):
    user = forms.CharField(required=False, max_length=150)
    outcome = forms.ChoiceField(required=False, choices=[("", "Any outcome"), *Outcome.choices])
    decision = forms.ChoiceField(required=False, choices=[("", "Approve or reject"), *DecisionKind.choices])
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the days are the site's time zone's (selectors.decisions_for), and the labels say which
        zone = timezone_label()
        self.fields["date_from"].label = f"From ({zone})"
        self.fields["date_to"].label = f"To ({zone})"
