from django import forms

from approvals.selectors_orders import ORDER_STATUSES


class OrdersFilterForm(forms.Form):
    """The All orders page's filters (every one applied on the server; dates are UTC days, both inclusive)."""

    status = forms.ChoiceField(required=False, choices=[("", "Every status"), *((s, s) for s in ORDER_STATUSES)])
    customer = forms.CharField(required=False, max_length=200, strip=True)
    requester = forms.CharField(required=False, max_length=200, strip=True)
    date_from = forms.DateField(
        required=False, label="Created from (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(required=False, label="to (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    amount_min = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    amount_max = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=2)
    cursor = forms.CharField(required=False, max_length=2000)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", "The maximum is below the minimum.")
        return data
