"""The person form of the register pages (create and edit)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from .models import Person, Sex, SpecialGroup


class PersonForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    national_id = forms.CharField(label=gettext_lazy("National ID"), max_length=20, required=False)
    sex = forms.ChoiceField(
        label=gettext_lazy("Sex"), choices=Sex.choices, required=False, initial=Sex.UNKNOWN
    )  # not a guess: a form left as it came says "unknown", not "male"
    birth_date = forms.DateField(
        label=gettext_lazy("Birth date"),
        required=False,
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
    )
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=20, required=False)
    building = forms.CharField(label=gettext_lazy("Home building code"), max_length=40, required=False)
    jurisdiction = forms.CharField(
        label=gettext_lazy("Jurisdiction code"),
        max_length=32,
        required=False,
        help_text=gettext_lazy("Needed only when there is no home building."),
    )
    occupation = forms.CharField(label=gettext_lazy("Occupation"), max_length=100, required=False)
    workplace_name = forms.CharField(label=gettext_lazy("Workplace"), max_length=200, required=False)
    tags = forms.MultipleChoiceField(
        label=gettext_lazy("Special groups"),
        choices=SpecialGroup.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    # The version of the record the form shows (edit only): a record changed since is refused, not overwritten.
    version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    # Fields of the actions' refusals shown beside another field of the form.
    ERROR_FIELDS = {"home_building": "building", "household": "building"}

    @staticmethod
    def initial_of(person: Person) -> dict[str, object]:
        """The form's values for an existing person."""
        return {
            "name": person.name,
            "national_id": person.national_id or "",
            "sex": person.sex,
            "birth_date": person.birth_date,
            "phone": person.phone,
            "building": person.home_building.code if person.home_building else "",
            "jurisdiction": "" if person.home_building_id else person.jurisdiction.code,
            "occupation": person.occupation,
            "workplace_name": person.workplace_name,
            "tags": person.tags,
            "version": person.version,
        }

    def show_refusal(self, messages: dict[str, list[str]]) -> None:
        """Put an action's refusal (``ValidationError.message_dict``) beside the fields it names."""
        for field, msgs in messages.items():
            target = self.ERROR_FIELDS.get(field, field)
            self.add_error(target if target in self.fields else None, msgs)
