"""Server-rendered pages. Thin: read through selectors, write through actions, declare an access rule each."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.i18n import set_language as django_set_language

from cordon.apps.accounts.roles import Cap, Role
from cordon.apps.accounts.scoping import NotFound, Scope
from cordon.apps.audit import selectors as audit
from cordon.apps.geo import selectors as geo
from cordon.apps.geo.models import Level
from cordon.apps.people import actions as people_actions
from cordon.apps.people import selectors as people
from cordon.apps.people.models import Sex, SpecialGroup
from cordon.apps.venues import selectors as venues
from cordon.site.access import PUBLIC, SIGNED_IN, page

PAGE_SIZE = 50
# Roles that look after residents directly see the special groups of their area on their home page.
SPECIAL_GROUP_ROLES = {Role.GRID_WORKER, Role.STREET_OFFICER, Role.SERVICE_DISPATCHER}


def _not_found(request: HttpRequest) -> HttpResponse:
    return page_not_found(request, None)


# --- authentication and language ----------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


login = page(PUBLIC)(LoginView.as_view())
logout = page(PUBLIC)(auth_views.LogoutView.as_view())
set_language = page(PUBLIC)(django_set_language)


@page(PUBLIC)
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


# --- home -----------------------------------------------------------------------------------------------


@page(SIGNED_IN)
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    scope = Scope.of(user)
    root = geo.root_for(user)
    context: dict[str, Any] = {"root": root, "role_label": Role(user.role).label if user.role else ""}
    if root is not None and scope.can(Cap.VIEW_JURISDICTIONS):
        counts = geo.subtree_counts(user, root)
        context["totals"] = counts.get(root.pk, {})
        children = list(root.children.all())
        context["children"] = [(c, counts.get(c.pk, {})) for c in children]
    if user.role in SPECIAL_GROUP_ROLES and scope.can(Cap.VIEW_PERSONS):
        context["special_groups"] = people.special_group_counts(user)
    if scope.can(Cap.VIEW_AUDIT):
        context["recent_audit"] = audit.recent_audit(user)[:10]
    return render(request, "web/home.html", context)


# --- jurisdictions --------------------------------------------------------------------------------------


@page(Cap.VIEW_JURISDICTIONS)
def jurisdiction_root(request: HttpRequest) -> HttpResponse:
    root = geo.root_for(request.user)
    if root is None:
        return render(request, "web/no_scope.html")
    return redirect("jurisdiction", code=root.code)


@page(Cap.VIEW_JURISDICTIONS)
def jurisdiction_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        node = geo.get_jurisdiction_for(request.user, code)
    except NotFound:
        return _not_found(request)
    user: Any = request.user
    counts = geo.subtree_counts(user, node)
    children = [(c, counts.get(c.pk, {})) for c in node.children.all()]
    root = geo.root_for(user)
    ancestors = []
    parent = node.parent
    while parent is not None and root is not None and root.contains(parent):
        ancestors.append(parent)
        parent = parent.parent
    ancestors.reverse()
    buildings = []
    if node.level >= Level.COMMUNITY:
        for b in geo.buildings_visible_to(user).filter(jurisdiction__path__startswith=node.path)[:2000]:
            if b.latitude is not None:
                buildings.append(
                    {
                        "code": b.code,
                        "address": b.address,
                        "lat": b.latitude,
                        "lon": b.longitude,
                        "footprint": b.footprint,
                    }
                )
    template = "web/_jurisdiction_children.html" if request.htmx else "web/jurisdiction.html"  # type: ignore[attr-defined]
    return render(
        request,
        template,
        {
            "node": node,
            "counts": counts.get(node.pk, {}),
            "children": children,
            "ancestors": ancestors,
            "buildings": buildings,
        },
    )


# --- persons --------------------------------------------------------------------------------------------


@page(Cap.VIEW_PERSONS)
def person_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    tag = request.GET.get("tag", "")
    user: Any = request.user
    results = None
    if query or tag:
        results = people.search_persons(user, query)
        if tag:
            results = people.with_special_group(results, tag)
        results = results.order_by("name", "id")
    page_obj = (
        Paginator(results, PAGE_SIZE).get_page(request.GET.get("page")) if results is not None else None
    )
    rows = [
        {"person": p, "national_id": people.national_id_for(user, p), "phone": people.phone_for(user, p)}
        for p in (page_obj or [])
    ]
    context = {
        "query": query,
        "tag": tag,
        "tags": SpecialGroup.choices,
        "page_obj": page_obj,
        "rows": rows,
    }
    template = "web/_person_results.html" if request.htmx else "web/person_search.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@page(Cap.VIEW_PERSONS)
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    try:
        person = people.open_person_record(user, pk, via="web")
    except NotFound:
        return _not_found(request)
    members = [
        {"person": m, "national_id": people.national_id_for(user, m)}
        for m in people.household_members(user, person)
    ]
    return render(
        request,
        "web/person.html",
        {
            "person": person,
            "national_id": people.national_id_for(user, person),
            "phone": people.phone_for(user, person),
            "members": members,
        },
    )


class PersonForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    national_id = forms.CharField(label=gettext_lazy("National ID"), max_length=20, required=False)
    sex = forms.ChoiceField(label=gettext_lazy("Sex"), choices=Sex.choices, required=False)
    birth_date = forms.DateField(
        label=gettext_lazy("Birth date"), required=False, widget=forms.DateInput({"type": "date"})
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


def _person_data_from_form(user: Any, form: PersonForm) -> dict[str, Any]:
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


def _apply_errors(form: PersonForm, exc: ValidationError) -> None:
    mapping = {"home_building": "building", "household": "building"}
    for field, msgs in exc.message_dict.items():
        target = mapping.get(field, field)
        form.add_error(target if target in form.fields else None, msgs)


@page(Cap.EDIT_PERSONS)
def person_create(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = PersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = _person_data_from_form(user, form)
            person = people_actions.create_person(actor=user, data=people_actions.PersonData(**data))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Person registered."))
            return redirect("person", pk=person.pk)
    return render(request, "web/person_form.html", {"form": form, "person": None})


@page(Cap.EDIT_PERSONS)
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    try:
        person = people.get_person_for(user, pk)
    except NotFound:
        return _not_found(request)
    initial = {
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
    }
    form = PersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            data = _person_data_from_form(user, form)
            if data["home_building"] is not None:
                data.pop("jurisdiction")
            if data["home_building"] != person.home_building:
                data["household"] = None
            people_actions.update_person(actor=user, person=person, changes=data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("person", pk=person.pk)
    return render(request, "web/person_form.html", {"form": form, "person": person})


# --- venues ---------------------------------------------------------------------------------------------


@page(Cap.VIEW_VENUES)
def venue_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    qs = venues.search_venues(request.user, query).order_by("name", "id")
    page_obj = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "web/_venue_results.html" if request.htmx else "web/venue_search.html"  # type: ignore[attr-defined]
    return render(request, template, {"query": query, "page_obj": page_obj})


@page(Cap.VIEW_VENUES)
def venue_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        venue = venues.get_venue_for(request.user, pk)
    except NotFound:
        return _not_found(request)
    b = venue.building
    point = (
        {"lat": b.latitude, "lon": b.longitude, "footprint": b.footprint, "address": b.address} if b else None
    )
    return render(request, "web/venue.html", {"venue": venue, "point": point})


# --- audit ----------------------------------------------------------------------------------------------

AUDIT_KINDS = {
    "person": lambda user, pk: people.get_person_for(user, pk),
    "venue": lambda user, pk: venues.get_venue_for(user, pk),
    "jurisdiction": lambda user, pk: geo.get_jurisdiction_for(user, pk),
    "building": lambda user, pk: geo.get_building_for(user, pk),
}


@page(Cap.VIEW_AUDIT)
def audit_recent(request: HttpRequest) -> HttpResponse:
    page_obj = Paginator(audit.recent_audit(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/audit.html", {"page_obj": page_obj, "record": None})


@page(Cap.VIEW_AUDIT)
def audit_record(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    getter = AUDIT_KINDS.get(kind)
    try:
        if getter is None:
            raise NotFound
        record = getter(request.user, pk)
    except NotFound:
        return _not_found(request)
    page_obj = Paginator(audit.audit_for_record(request.user, record), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "web/audit.html", {"page_obj": page_obj, "record": record, "kind": kind})


@page(Cap.VIEW_AUDIT)
def access_log(request: HttpRequest) -> HttpResponse:
    qs = audit.access_log_visible_to(request.user)
    person = request.GET.get("person", "")
    if person.isdigit():
        qs = qs.filter(person_id=int(person))
    page_obj = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/access_log.html", {"page_obj": page_obj})


# --- errors ---------------------------------------------------------------------------------------------


def _error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, _("The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, _("Your role does not allow this."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, str(NotFound.message))


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, _("Something went wrong on our side. The error has been logged."))
