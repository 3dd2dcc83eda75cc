"""Employers: the first feature source. Only published entries, only their public fields.

Its parameters (sector, occupation, municipality, place and radius, size, family criteria,
offers, apprenticeship occupation, language, text) are declared here once; the pipeline parses
them, and the same declarations reach the browser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, exists, func, literal, literal_column, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased, selectinload

from app.extensions import db
from app.features.filters import (
    FeatureFilter,
    Parameter,
    ParseContext,
    parse,
    place_parameters,
    shown,
    text_parameter,
)
from app.features.layers import within
from app.features.source import register
from app.models import (
    Company,
    CompanyApprenticeship,
    CompanyStatus,
    KldbGroup,
    Municipality,
    WzDivision,
    company_family_criteria,
    company_occupations,
    company_sectors,
)
from app.models.company import OFFERS, SIZES
from app.services import apprenticeships, entries
from app.services.vocabulary_search import STOP_WORDS

#: Columns only the agency's own exports hold: the contact person.
PRIVATE_FIELDS = ("contact_name", "contact_email")
#: Fields of a company that may leave the server through a public page, API or export: the
#: entry's fields (:mod:`app.services.entries`) without the contact person, plus the slug and
#: the size class. Workflow fields are absent.
PUBLIC_FIELDS = (
    "slug",
    *(name for name in entries.TEXT_FIELDS if name not in PRIVATE_FIELDS),
    *entries.SCALAR_FIELDS,
    "size_class",
)
#: The classification columns of an export (codes joined by ';').
CODE_FIELDS = ("sectors", "occupations", "family", "apprenticeships")
# The same folding as the database function atlas_fold (migration 0010): letters with accents
# to plain ones (the combining dot above, left by "İ".lower(), dropped), then ae, oe, ue.
_FOLD = str.maketrans(
    "äöüàáâãåèéêëìíîïòóôõùúûçñýÿışğąćęłńśźżčďěňřšťůžđășțţőűø",
    "aouaaaaaeeeeiiiioooouuucnyyisgacelnszzcdenrstuzdasttouo",
    "\u0307",
)
_DIGRAPHS = (("ae", "a"), ("oe", "o"), ("ue", "u"))
_WORD = re.compile(r"[^\W_]+")
#: German collation for sorting names (ICU, available on every PostgreSQL built with ICU).
NAME_COLLATION = "de-x-icu"
#: The code column of the entries' apprenticeship occupations (``apprenticeship`` filter).
APPRENTICESHIP_CODE = CompanyApprenticeship.__table__.c.code


def fold_for_search(text: str) -> str:
    """Fold text the way ``atlas_fold`` does in the database: lower case, ß as ss, letters
    without accents, and ae, oe, ue as a, o, u ("Baeckerei", "Bäckerei" -> "backerei")."""
    folded = text.lower().replace("ß", "ss").translate(_FOLD)
    for digraph, vowel in _DIGRAPHS:
        folded = folded.replace(digraph, vowel)
    return folded


def _prefix_query(words: list[str]):
    """The German full-text query that every one of ``words`` (folded) matches, each also as a
    word beginning."""
    terms = " & ".join(f"{word}:*" for word in words)
    return func.to_tsquery(literal_column("'german'::regconfig"), terms)


def text_query(text: str):
    """A German full-text query: every word must match, each also as a word beginning."""
    words = _WORD.findall(fold_for_search(text))
    if not words:
        return None
    return _prefix_query(words)


def similarity_words(text: str) -> list[str]:
    """The folded words of ``text`` the typo-tolerant fallback compares: small words such as
    "und" or "der" are left out, unless there is nothing else."""
    words = _WORD.findall(fold_for_search(text))
    return [word for word in words if word not in STOP_WORDS] or words


def folded_name():
    """The employer's folded name, as the trigram index ``ix_companies_name_trigram`` holds it."""
    return func.atlas_fold(Company.name)


def _word_found(word: str):
    """The entry's full text has ``word`` (folded) as a word beginning."""
    return Company.search_vector.op("@@")(_prefix_query([word]))


def _word_similar(word: str):
    """The entry's folded name has a word (or run of words) whose trigrams are at least
    :data:`app.config.NAME_SIMILARITY` similar to ``word`` (pg_trgm's strict word similarity,
    ``%>>``, served by the trigram index; the threshold is the connection's
    ``pg_trgm.strict_word_similarity_threshold``)."""
    return folded_name().op("%>>")(word)


def text_condition(text: str):
    """The ``q`` filter: the full text (:func:`text_query`); when that finds no published
    employer at all, the typo-tolerant fallback: every word of the query (but small words, see
    :func:`similarity_words`) is a word beginning in the full text or similar to a word of the
    name ("Bäkerei" finds "Bäckerei Schulte", "Bank" does not).

    One SQL condition, so the map, list, counts, exports and alerts agree. Whether the full
    text finds anyone is asked first (one index probe), so that a query the full text answers
    is a condition the full-text index serves (an ``OR`` with the fallback would measure every
    employer). None when the text has no words."""
    tsquery = text_query(text)
    if tsquery is None:
        return None
    matches = Company.search_vector.op("@@")(tsquery)
    if found_by_text(text):
        return matches
    return or_(
        matches, and_(*(or_(_word_found(w), _word_similar(w)) for w in similarity_words(text)))
    )


def found_by_text(text: str) -> bool:
    """Whether the full text alone finds a published employer for ``text`` (False: the ``q``
    filter uses its typo-tolerant fallback)."""
    tsquery = text_query(text)
    if tsquery is None:
        return False
    condition = exists().where(
        Company.status == CompanyStatus.PUBLISHED, Company.search_vector.op("@@")(tsquery)
    )
    return bool(db.session.scalar(select(condition)))


def _closest_name_word(word: str):
    """The word of the employer's name (as written) most similar to ``word`` (folded)."""
    name_word = func.regexp_split_to_table(Company.name, r"[^[:alnum:]]+").column_valued("w")
    return (
        select(name_word)
        .where(name_word != "")
        .order_by(func.strict_word_similarity(word, func.atlas_fold(name_word)).desc(), name_word)
        .limit(1)
        .scalar_subquery()
    )


def municipality_parameter() -> Parameter:
    """``municipality=<AGS>,…``: the region's municipalities (by boundary where stored); the
    vocabulary's ``municipalities`` are the keys allowed. Shared by every source with a place."""
    return Parameter(
        "municipality",
        "choice",
        multiple=True,
        allowed=lambda v: v.municipalities,
        message=lambda value, v: _(
            "Unbekannte Gemeinde „%(value)s“: erwartet wird der achtstellige "
            "Gemeindeschlüssel (AGS) einer Gemeinde der Region.",
            value=shown(value),
        ),
    )


PARAMETERS = (
    text_parameter("q"),
    Parameter(
        "sector",
        "choice",
        multiple=True,
        allowed=lambda v: v.sections | v.divisions,
        normalize=lambda s: s.upper() if len(s) == 1 else s,
        message=lambda value, v: _(
            "Unbekannter Wirtschaftszweig „%(value)s“: erwartet wird ein WZ-2008-Abschnitt "
            "(A bis U) oder eine zweistellige WZ-Abteilung.",
            value=shown(value),
        ),
    ),
    Parameter(
        "occupation",
        "choice",
        multiple=True,
        allowed=lambda v: v.areas | v.groups,
        message=lambda value, v: _(
            "Unbekannter Beruf „%(value)s“: erwartet wird ein KldB-2010-Berufsbereich "
            "(eine Ziffer) oder eine Berufshauptgruppe (zwei Ziffern).",
            value=shown(value),
        ),
    ),
    municipality_parameter(),
    *place_parameters(),
    Parameter(
        "size",
        "choice",
        multiple=True,
        options=SIZES,
        allowed=lambda v: SIZES,
        message=lambda value, v: _(
            "Unbekannte Größenklasse „%(value)s“: erlaubt sind %(allowed)s.",
            value=shown(value),
            allowed=", ".join(SIZES),
        ),
    ),
    Parameter(
        "family",
        "choice",
        multiple=True,
        allowed=lambda v: v.family,
        message=lambda value, v: _(
            "Unbekanntes Merkmal „%(value)s“: erlaubt sind %(allowed)s.",
            value=shown(value),
            allowed=", ".join(v.family),
        ),
    ),
    Parameter(
        "offers",
        "choice",
        multiple=True,
        options=OFFERS,
        allowed=lambda v: OFFERS,
        message=lambda value, v: _(
            "Unbekanntes Angebot „%(value)s“: erlaubt sind %(allowed)s.",
            value=shown(value),
            allowed=", ".join(OFFERS),
        ),
    ),
    Parameter(
        "apprenticeship",
        "choice",
        multiple=True,
        allowed=lambda v: apprenticeships.codes(),
        normalize=lambda s: s.lower(),
        message=lambda value, v: _(
            "Unbekannter Ausbildungsberuf „%(value)s“: erwartet wird der Code eines "
            "anerkannten Ausbildungsberufs wie baecker.",
            value=shown(value),
        ),
    ),
    Parameter(
        "language",
        "choice",
        multiple=True,
        allowed=lambda v: v.languages,
        message=lambda value, v: _(
            "Unbekannte Sprache „%(value)s“: erwartet wird ein zweibuchstabiger "
            "ISO-639-1-Code wie de, en oder tr.",
            value=shown(value),
        ),
    ),
    # within=transit:500,childcare:1000: near a feature of each (layer kinds with proximity).
    within(),
)
#: The filter parameters, in the order permalinks list them.
FILTER_PARAMS = tuple(parameter.name for parameter in PARAMETERS)


@dataclass(frozen=True)
class EmployerFilter(FeatureFilter):
    """What a jobseeker asked for, with the employer's parameters as typed fields."""

    sections: frozenset[str] = frozenset()
    divisions: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    municipalities: frozenset[str] = frozenset()
    sizes: frozenset[str] = frozenset()
    family: frozenset[str] = frozenset()
    offers: frozenset[str] = frozenset()
    apprenticeships: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    text: str = ""

    @classmethod
    def from_values(cls, *, values, **fields) -> EmployerFilter:
        """The filter from the parsed values of :data:`PARAMETERS` (see ``features.parse``)."""
        sectors = values.get("sector", ())
        occupations = values.get("occupation", ())
        fields.setdefault("order", FILTER_PARAMS)
        return cls(
            values=values,
            sections=frozenset(s for s in sectors if len(s) == 1),
            divisions=frozenset(s for s in sectors if len(s) != 1),
            areas=frozenset(o for o in occupations if len(o) == 1),
            groups=frozenset(o for o in occupations if len(o) != 1),
            municipalities=frozenset(values.get("municipality", ())),
            sizes=frozenset(values.get("size", ())),
            family=frozenset(values.get("family", ())),
            offers=frozenset(values.get("offers", ())),
            apprenticeships=frozenset(values.get("apprenticeship", ())),
            languages=frozenset(values.get("language", ())),
            text=values.get("q", ""),
            **fields,
        )


def _linked(code_column, codes):
    """The company is linked, through ``code_column``'s association table, to one of ``codes``."""
    table = code_column.table
    return exists().where(table.c.company_id == Company.id, code_column.in_(codes))


def _ordered_codes(code_column):
    """The company's codes in ``code_column``'s association table, sorted, joined by ';'."""
    table = code_column.table
    aggregated = func.string_agg(code_column, aggregate_order_by(literal(";"), code_column))
    return (
        select(func.coalesce(aggregated, ""))
        .where(table.c.company_id == Company.id)
        .scalar_subquery()
    )


def public_properties(company: Company) -> dict:
    """The public fields of a company as JSON-ready properties (never the contact person)."""
    properties = {"id": company.id}
    properties.update({name: getattr(company, name) for name in PUBLIC_FIELDS})
    properties["sectors"] = [d.code for d in company.sectors]
    properties["occupations"] = [g.code for g in company.occupations]
    properties["family"] = [c.key for c in company.family_criteria]
    # Code, name (interface language), places and a label: public data.
    properties["apprenticeships"] = apprenticeships.for_company(company)
    return properties


def in_municipalities(keys: list[str]):
    """Companies in any of the municipalities ``keys``: inside the boundary of one that has a
    stored boundary (``ST_Intersects``, served by the location's spatial index), else by the
    entry's ``municipality_ags`` (as before boundaries are imported)."""
    located = aliased(Company)
    inside = (
        select(located.id)
        .join(Municipality, func.ST_Intersects(Municipality.boundary, located.location))
        .where(Municipality.ags.in_(keys), Municipality.boundary.is_not(None))
    )
    shaped = exists().where(
        Municipality.ags == Company.municipality_ags, Municipality.boundary.is_not(None)
    )
    by_key = Company.municipality_ags.in_(keys) & (~shaped | Company.location.is_(None))
    return or_(Company.id.in_(inside), by_key)


class EmployerSource:
    """Published employers, for the map, the list, the API and exports."""

    key = "employers"
    parameters = PARAMETERS
    detail_endpoint = "public.employer"
    #: Its map answers may be shared through :mod:`app.features.map_cache` (no clock involved).
    map_cacheable = True
    marker = {"className": "atlas-marker", "clusterClassName": "atlas-cluster"}
    #: The columns of an export; integers and booleans are typed, the rest are texts.
    integer_fields = ("employees", "open_positions")
    boolean_fields = ("offers_apprenticeships", "offers_internships")

    def __init__(self):
        # Instance attributes: as class attributes, the mapped columns would act as
        # descriptors on this (unmapped) class.
        self.geometry = Company.location
        self.id_column = Company.id
        self.name_order = (Company.name.collate(NAME_COLLATION),)

    def label(self) -> str:
        """The source's name in the interface language."""
        return _("Arbeitgeber")

    def empty_filter(self) -> EmployerFilter:
        """A filter that narrows nothing."""
        return EmployerFilter(order=FILTER_PARAMS)

    make_filter = staticmethod(EmployerFilter.from_values)

    def vocabulary(self):
        """The codes the employer filters accept (taxonomies, the region's municipalities)."""
        from app.services.taxonomies import vocabulary

        return vocabulary()

    def query(self, f: EmployerFilter) -> Select:
        """Published companies that pass the employer's own parameters."""
        query = select(Company).where(Company.status == CompanyStatus.PUBLISHED)
        if f.sections or f.divisions:
            divisions = select(WzDivision.code).where(
                or_(WzDivision.code.in_(f.divisions), WzDivision.section_code.in_(f.sections))
            )
            query = query.where(_linked(company_sectors.c.division_code, divisions))
        if f.areas or f.groups:
            groups = select(KldbGroup.code).where(
                or_(KldbGroup.code.in_(f.groups), KldbGroup.area_code.in_(f.areas))
            )
            query = query.where(_linked(company_occupations.c.group_code, groups))
        if f.municipalities:
            query = query.where(in_municipalities(sorted(f.municipalities)))
        if f.sizes:
            query = query.where(Company.size_class.in_(f.sizes))
        for key in sorted(f.family):  # all of them: one condition each
            query = query.where(_linked(company_family_criteria.c.criterion_key, [key]))
        if f.offers:
            query = query.where(or_(*(Company.offer_condition(o) for o in sorted(f.offers))))
        if f.apprenticeships:  # any of them
            query = query.where(_linked(APPRENTICESHIP_CODE, sorted(f.apprenticeships)))
        if f.languages:
            query = query.where(Company.languages.overlap(sorted(f.languages)))
        if f.text and (condition := text_condition(f.text)) is not None:
            query = query.where(condition)
        return query

    def suggest(self, f: EmployerFilter, total: int) -> str | None:
        """The "did you mean" for a text search that found ``total`` employers, a spelling that
        published employers under the same filter use, or None.

        Only when the search found nothing or only through the typo-tolerant fallback. The
        suggestion comes from the name of one published employer that passes the other
        filters and whose name is similar to the query by the fallback's rules (the best by
        similarity, then by name). Each query word that is not a word beginning in that
        employer's full text is replaced by the most similar word of its name ("Bäkerei
        Marl" -> "Bäckerei Marl"), so searching the suggestion finds that employer."""
        from app.features.pipeline import matching

        if not f.text or text_query(f.text) is None:
            return None
        if total and found_by_text(f.text):
            return None
        words = sorted(set(similarity_words(f.text)))
        picks, conditions, score = [], [], literal(0.0)
        for index, word in enumerate(words):
            found = _word_found(word)
            conditions.append(or_(found, _word_similar(word)))
            likeness = func.strict_word_similarity(word, folded_name())
            score = score + case((found, 1.0), else_=likeness)
            # None where the word is found as typed, else the name's word most like it.
            picks.append(case((found, None), else_=_closest_name_word(word)).label(f"w{index}"))
        candidates = matching(self, replace(f, text=""), use_view=False).where(*conditions)
        best = db.session.execute(
            candidates.with_only_columns(*picks)
            .order_by(score.desc(), *self.name_order, Company.id)
            .limit(1)
        ).first()
        if best is None:
            return None
        replacements = dict(zip(words, best, strict=True))
        typed = _WORD.findall(f.text)
        suggestion = " ".join(replacements.get(fold_for_search(word)) or word for word in typed)
        if fold_for_search(suggestion) == fold_for_search(" ".join(typed)):
            return None
        return suggestion

    def map_data(self, f: EmployerFilter, settings) -> dict:
        """The map's data from the map index (:func:`app.features.map_index.map_data`)."""
        from app.features import map_index

        return map_index.map_data(f, settings)

    def published_feature(self, feature_id: int) -> dict | None:
        """One published employer with every public property (a popup's content), or None."""
        from app.features import map_index

        return map_index.published_feature(feature_id)

    def fast_count(self, f: EmployerFilter, *, use_view: bool = True) -> int:
        """How many published employers pass ``f``, counted on the map index."""
        from app.features import map_index

        return map_index.count(f, use_view=use_view)

    def with_details(self, query: Select) -> Select:
        """The classifications that ``properties`` reads, loaded in a few queries."""
        return query.options(
            selectinload(Company.sectors),
            selectinload(Company.occupations),
            selectinload(Company.family_criteria),
            selectinload(Company.apprenticeships),
        )

    def entity(self, row) -> Company:
        """The company of a result row."""
        return row[0]

    def properties(self, row) -> dict:
        """The public fields of a result row's company."""
        return public_properties(row[0])

    def feature_id(self, row) -> int:
        """The company's id."""
        return row[0].id

    def detail_values(self, row) -> dict:
        """The URL values of the company's public page."""
        return {"slug": row[0].slug}

    def export_rows(self, f: EmployerFilter, *, private: bool = False):
        """Column names and a query of rows for an export (codes joined by ';'; the contact
        person only if ``private``); the last two columns are lon and lat."""
        from app.features.pipeline import matching

        names = [*PUBLIC_FIELDS, *CODE_FIELDS, *(PRIVATE_FIELDS if private else ())]
        fields = [getattr(Company, name) for name in PUBLIC_FIELDS if name != "languages"]
        fields.append(func.array_to_string(Company.languages, ";").label("languages"))
        fields += [
            _ordered_codes(company_sectors.c.division_code).label("sectors"),
            _ordered_codes(company_occupations.c.group_code).label("occupations"),
            _ordered_codes(company_family_criteria.c.criterion_key).label("family"),
            _ordered_codes(APPRENTICESHIP_CODE).label("apprenticeships"),
        ]
        if private:
            fields += [getattr(Company, name) for name in PRIVATE_FIELDS]
        fields += [func.ST_X(Company.location), func.ST_Y(Company.location)]
        query = matching(self, f, use_view=False).with_only_columns(*fields).order_by(Company.id)
        return names, query


EMPLOYERS = register(EmployerSource())


def parse_filter(args, vocabulary, resolve_place) -> EmployerFilter:
    """The employer filter from query parameters, checked against ``vocabulary`` (what
    :func:`app.features.pipeline.parse_filter` does with the source's own vocabulary)."""
    return parse(
        args,
        PARAMETERS,
        ParseContext(lambda: vocabulary, resolve_place),
        make=EMPLOYERS.make_filter,
    )
