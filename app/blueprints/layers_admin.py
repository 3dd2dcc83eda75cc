"""The workspace's map layers: the kinds with their counts, upload of a layer file, its
report (before anything is stored), import by replacing or appending (queued as a job; its
progress page shows the result), removing a layer; and the housing offers, managed one by
one."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from geoalchemy2.shape import to_shape
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import DateField, Form, StringField
from wtforms.fields import DecimalField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.services import housing, layer_import

from .staff import protect

bp = Blueprint("layers_admin", __name__)
protect(bp)

#: How long a new housing offer is shown, unless staff choose another date.
DEFAULT_OFFER_DAYS = 60


def _kind_arg(values) -> str:
    kind = values.get("kind", "")
    return kind if layer_import.kind_or_none(kind) else ""


def _index(error=None, code=200, chosen_kind="", crs=""):
    return render_template(
        "curation/layers.html",
        summaries=layer_import.overview(),
        error=error,
        chosen_kind=chosen_kind,
        crs=crs,
    ), code


@bp.get("/")
def index():
    """The layer kinds with their counts and last import, and the upload form."""
    return _index()


@bp.post("/hochladen")
def upload_file():
    """Keep an uploaded layer file and show its report; say why if it cannot be read."""
    kind = _kind_arg(request.form)
    crs = request.form.get("crs", "").strip()[:40]
    file = request.files.get("file")
    if not kind:
        return _index(_("Bitte wählen Sie eine Ebene aus."), 422, crs=crs)
    if file is None or not file.filename:
        return _index(_("Bitte wählen Sie eine Datei aus."), 422, kind, crs)
    try:
        upload = layer_import.store_upload(file.read(), file.filename, kind, crs, current_user)
    except layer_import.LayerImportError as error:
        return _index(str(error), 422, kind, crs)
    return redirect(url_for(".preview", upload_id=upload.id, kind=kind, crs=crs or None), 303)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    """An upload over MAX_CONTENT_LENGTH: the upload form again, saying the limit."""
    if not current_user.is_authenticated:
        return render_template("errors/http.html", error=error), 413
    message = _(
        "Die Datei ist zu groß: höchstens %(size)d MB.",
        size=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
    )
    return _index(message, 413)


def _upload_and_kind(upload_id: int, values):
    upload = layer_import.get_upload(upload_id) or abort(404)
    kind = _kind_arg(values) or abort(404)
    return upload, kind, values.get("crs", "").strip()[:40]


def _report_page(upload, kind, crs, error=None, code=200):
    if upload.imported_at is not None:
        return _index(_("Diese Datei wurde schon importiert."), 409)
    try:
        report = layer_import.check(upload.content, kind, filename=upload.filename, crs=crs)
    except layer_import.LayerImportError as problem:
        return _index(str(problem), 422, kind, crs)
    return render_template(
        "curation/layer_report.html",
        upload=upload,
        report=report,
        crs=crs,
        labels=layer_import.problem_labels(),
        error=error,
    ), code


@bp.get("/datei/<int:upload_id>")
def preview(upload_id: int):
    """The file's report: what would be imported, what not and why."""
    upload, kind, crs = _upload_and_kind(upload_id, request.args)
    return _report_page(upload, kind, crs)


@bp.post("/datei/<int:upload_id>/importieren")
def run(upload_id: int):
    """Queue the import of the file's accepted rows, replacing the layer or appending to it
    (a job runs it), and go to its progress page."""
    upload, kind, crs = _upload_and_kind(upload_id, request.form)
    mode = request.form.get("mode", "")
    try:
        layer_import.request_import(upload, kind, mode, crs, current_user)
    except layer_import.LayerImportRefused as refusal:
        return _progress_page(upload, str(refusal), 409)
    except layer_import.LayerImportError as error:
        return _report_page(upload, kind, crs, str(error), 422)
    return redirect(url_for(".progress", upload_id=upload.id), 303)


def _progress_page(upload, error=None, code=200):
    """The upload's import as it stands (queued, done or failed), with ``error`` on top; the
    layers page if none was asked for."""
    progress = layer_import.import_progress(upload)
    if progress is None:  # never asked for (or imported before imports were jobs)
        if error:
            return _index(error, code)
        return redirect(url_for(".index"), 303)
    return render_template(
        "curation/layer_progress.html",
        upload=upload,
        progress=progress,
        labels=layer_import.problem_labels(),
        error=error,
    ), code


@bp.get("/datei/<int:upload_id>/stand")
def progress(upload_id: int):
    """The requested import: still queued (the page asks again every few seconds), what it
    stored, or why it failed."""
    upload = layer_import.get_upload(upload_id) or abort(404)
    return _progress_page(upload)


@bp.post("/<kind>/entfernen")
def remove(kind: str):
    """Remove every feature of a kind."""
    if layer_import.kind_or_none(kind) is None:
        abort(404)
    if request.form.get("confirm") != "1":
        return _index(_("Bitte bestätigen Sie das Entfernen der Ebene."), 422)
    removed = layer_import.remove_layer(kind, current_user)
    return render_template(
        "curation/layers.html",
        summaries=layer_import.overview(),
        notice=_("%(count)d Objekte der Ebene entfernt.", count=removed),
        chosen_kind="",
        crs="",
    )


# --- housing offers -----------------------------------------------------------------------


def _not_past(form, field):
    """A new expiry date must not be past (an expired offer can be edited keeping its date)."""
    unchanged = field.data is not None and field.data == getattr(form, "current_expiry", None)
    if field.data is not None and field.data < date.today() and not unchanged:
        raise ValidationError(_("Das Ablaufdatum darf nicht in der Vergangenheit liegen."))


class OfferForm(Form):
    """A housing offer: a title, an address or a point, and its details."""

    title = StringField(
        _l("Titel"), [InputRequired(_l("Bitte einen Titel angeben.")), Length(max=300)]
    )
    address = StringField(_l("Adresse"), [Optional(), Length(max=300)])
    postal_code = StringField(_l("Postleitzahl"), [Optional(), Length(max=5)])
    lat = DecimalField(_l("Breitengrad"), [Optional(), NumberRange(-90, 90)], places=None)
    lon = DecimalField(_l("Längengrad"), [Optional(), NumberRange(-180, 180)], places=None)
    rooms = DecimalField(_l("Zimmer"), [Optional(), NumberRange(0.5, 50)], places=None)
    rent = DecimalField(
        _l("Miete (Euro im Monat)"), [Optional(), NumberRange(0, 100_000)], places=None
    )
    available_from = DateField(_l("Frei ab"), [Optional()])
    contact = StringField(_l("Kontakt"), [Optional(), Length(max=300)])
    expires_on = DateField(
        _l("Angebot gültig bis"), [InputRequired(_l("Bitte ein Ablaufdatum angeben.")), _not_past]
    )

    def point(self) -> tuple[float, float] | None:
        """The offer's point: the coordinates given, else the postal code's point."""
        if self.lat.data is not None and self.lon.data is not None:
            return float(self.lon.data), float(self.lat.data)
        code = (self.postal_code.data or "").strip()
        found = current_app.config["REGION"].postal_code(code) if code else None
        return (found[1].lon, found[1].lat) if found else None


def _number_text(value) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text.replace(".", ",")


def _offer_page(form, offer=None, code=200, error=None):
    return render_template("curation/housing_form.html", form=form, offer=offer, error=error), code


def _form_for(offer) -> OfferForm:
    properties = offer.properties or {}
    point = to_shape(offer.location)
    return OfferForm(
        data={
            "title": offer.name,
            "address": properties.get("address", ""),
            "lat": round(point.y, 7),
            "lon": round(point.x, 7),
            "rooms": properties.get("rooms") and properties["rooms"].replace(",", "."),
            "rent": properties.get("rent")
            and properties["rent"].replace(",", ".").replace(" €", ""),
            "available_from": _date_or_none(properties.get("available_from", "")),
            "contact": properties.get("contact", ""),
            "expires_on": offer.expires_on,
        }
    )


def _date_or_none(text: str):
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def _save(form: OfferForm, offer=None):
    if not form.validate():
        return _offer_page(form, offer, 422)
    point = form.point()
    if point is None:
        return _offer_page(
            form,
            offer,
            422,
            _(
                "Bitte geben Sie die Lage an: Breiten- und Längengrad oder eine Postleitzahl "
                "der Region."
            ),
        )
    if not layer_import.in_region(*point):
        return _offer_page(form, offer, 422, _("Die Lage liegt außerhalb der Region."))
    values = housing.OfferValues(
        title=form.title.data.strip(),
        lon=point[0],
        lat=point[1],
        expires_on=form.expires_on.data,
        address=(form.address.data or "").strip(),
        rooms=_number_text(form.rooms.data),
        rent=(_number_text(form.rent.data) + " €") if form.rent.data is not None else "",
        available_from=form.available_from.data.isoformat() if form.available_from.data else "",
        contact=(form.contact.data or "").strip(),
    )
    housing.save_offer(values, current_user, offer)
    return redirect(url_for(".housing_list"), 303)


@bp.get("/wohnen")
def housing_list():
    """Every housing offer, the expired ones marked."""
    today = date.today()
    return render_template(
        "curation/housing.html",
        offers=[(offer, housing.is_expired(offer, today)) for offer in housing.offers()],
    )


@bp.route("/wohnen/neu", methods=["GET", "POST"])
def housing_new():
    """A new housing offer."""
    if request.method == "GET":
        default = date.today() + timedelta(days=DEFAULT_OFFER_DAYS)
        return _offer_page(OfferForm(data={"expires_on": default}))
    return _save(OfferForm(request.form))


@bp.route("/wohnen/<int:offer_id>", methods=["GET", "POST"])
def housing_edit(offer_id: int):
    """Change a housing offer."""
    offer = housing.get_offer(offer_id) or abort(404)
    if request.method == "GET":
        return _offer_page(_form_for(offer), offer)
    form = OfferForm(request.form)
    form.current_expiry = offer.expires_on
    return _save(form, offer)


@bp.post("/wohnen/<int:offer_id>/loeschen")
def housing_delete(offer_id: int):
    """Delete a housing offer."""
    offer = housing.get_offer(offer_id) or abort(404)
    housing.delete_offer(offer, current_user)
    return redirect(url_for(".housing_list"), 303)
