"""The register pages: person search (with its htmx results fragment), a person's record (access-logged),
registering and editing a person."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cordon.apps.geo import selectors as geo
from cordon.core import personmarks
from cordon.core.access import AuthedRequest, page
from cordon.core.actors import Actor
from cordon.core.pages import conflict_text, found
from cordon.core.reads import personal_data
from cordon.core.roles import Cap
from cordon.core.scoping import NotFound
from cordon.core.versions import Conflict

from . import actions, selectors
from .forms import PersonForm
from .models import SpecialGroup

PAGE_SIZE = 50


@page(Cap.VIEW_PERSONS)
@personal_data()
def person_search(request: AuthedRequest) -> HttpResponse:
    user = request.user
    query = request.GET.get("q", "").strip()[:100]
    tag = request.GET.get("tag", "")
    results = selectors.find_persons(user, query, tag)
    page_obj = (
        Paginator(results, PAGE_SIZE).get_page(request.GET.get("page")) if results is not None else None
    )
    shown = list(page_obj or [])
    marks = personmarks.marks_for(user, [p.pk for p in shown])
    rows = [
        {
            "person": p,
            "national_id": selectors.national_id_for(user, p, listed=True),
            "phone": selectors.phone_for(user, p, listed=True),
            "marks": marks.get(p.pk, []),
        }
        for p in shown
    ]
    context = {
        "query": query,
        "tag": tag,
        "tags": SpecialGroup.choices,
        "page_obj": page_obj,
        "rows": rows,
    }
    htmx = bool(getattr(request, "htmx", False))
    return render(request, "people/_person_results.html" if htmx else "people/person_search.html", context)


@page(Cap.VIEW_PERSONS)
@personal_data()
def person_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    person = found(lambda: selectors.open_person_record(user, pk, via="web"))
    members = [
        {"person": m, "national_id": selectors.national_id_for(user, m, listed=True)}
        for m in selectors.household_members(user, person)
    ]
    return render(
        request,
        "people/person.html",
        {
            "person": person,
            "national_id": selectors.national_id_for(user, person),
            "phone": selectors.phone_for(user, person),
            "members": members,
            "marks": personmarks.marks_for(user, [person.pk]).get(person.pk, []),
        },
    )


def _person_data(user: Actor, form: PersonForm) -> dict[str, Any]:
    """The form's values as ``PersonData`` fields, the building and jurisdiction codes looked up in the user's
    scope (out of scope reads as unknown)."""
    cd = form.cleaned_data
    data: dict[str, Any] = {
        "name": cd["name"],
        "national_id": cd["national_id"] or None,
        "sex": cd["sex"] or None,
        "birth_date": cd["birth_date"],
        "phone": cd["phone"],
        "occupation": cd["occupation"],
        "workplace_name": cd["workplace_name"],
        "tags": cd["tags"],
    }
    try:
        data["home_building"] = geo.get_building_for(user, cd["building"]) if cd["building"] else None
    except NotFound:
        raise ValidationError({"building": _("Unknown building code.")}) from None
    try:
        data["jurisdiction"] = (
            geo.get_jurisdiction_for(user, cd["jurisdiction"]) if cd["jurisdiction"] else None
        )
    except NotFound:
        raise ValidationError({"jurisdiction": _("Unknown jurisdiction code.")}) from None
    return data


@page(Cap.EDIT_PERSONS)
def person_create(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = actions.PersonData(**_person_data(user, form))
            person = actions.create_person(actor=user, data=data)
        except ValidationError as exc:
            form.show_refusal(exc.message_dict)
        else:
            messages.success(request, _("Person registered."))
            return redirect("person", pk=person.pk)
    return render(request, "people/person_form.html", {"form": form, "person": None})


@page(Cap.EDIT_PERSONS)
@personal_data()
def person_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    person = found(lambda: selectors.get_person_for(user, pk))
    form = PersonForm(request.POST or None, initial=PersonForm.initial_of(person))
    if request.method == "POST" and form.is_valid():
        try:
            data = _person_data(user, form)
            if data["home_building"] is not None:
                data.pop("jurisdiction")
            if data["home_building"] != person.home_building:
                data["household"] = None
            actions.update_person(
                actor=user, person=person, changes=data, version=form.cleaned_data["version"] or 0
            )
        except ValidationError as exc:
            form.show_refusal(exc.message_dict)
        except Conflict:
            # Someone else saved first: show the record as it is now (with its new version), and say so.
            person = found(lambda: selectors.get_person_for(user, pk))
            form = PersonForm(initial=PersonForm.initial_of(person))
            messages.error(request, conflict_text())
            return render(request, "people/person_form.html", {"form": form, "person": person}, status=409)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("person", pk=person.pk)
    return render(request, "people/person_form.html", {"form": form, "person": person})
