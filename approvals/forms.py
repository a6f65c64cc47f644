from django import forms

from approvals.models import DecisionKind, Outcome


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


class InboxFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)
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


class DecisionFilterForm(forms.Form):
    user = forms.CharField(required=False, max_length=150)
    outcome = forms.ChoiceField(required=False, choices=[("", "Any outcome"), *Outcome.choices])
    decision = forms.ChoiceField(required=False, choices=[("", "Approve or reject"), *DecisionKind.choices])
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
