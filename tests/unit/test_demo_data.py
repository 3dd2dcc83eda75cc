import math
from collections import Counter

from app import demo_data
from app.models import size_class_for
from app.services.reference_data import read_data_file
from app.services.slugs import slugify
from geodata.regions import load_region

REGION = load_region("emscher-lippe")


def distance_km(lon1, lat1, lon2, lat2):
    dx = (lon2 - lon1) * 111.2 * math.cos(math.radians((lat1 + lat2) / 2))
    dy = (lat2 - lat1) * 111.2
    return math.hypot(dx, dy)


def test_generator_is_deterministic():
    assert demo_data.generate(REGION) == demo_data.generate(REGION)
    assert demo_data.generate(REGION, seed=1) != demo_data.generate(REGION)


def test_about_300_employers_with_unique_references_slugs_and_names():
    employers = demo_data.generate(REGION)
    assert len(employers) == 300
    for attribute in ("ref", "slug", "name"):
        assert len({getattr(e, attribute) for e in employers}) == 300


def test_mostly_micro_and_small_with_some_larger_ones():
    sizes = Counter(size_class_for(e.employees) for e in demo_data.generate(REGION))
    assert sizes["micro"] + sizes["small"] > 0.7 * 300
    assert sizes["medium"] > 0
    assert sizes["large"] > 0


def test_some_entries_are_not_published():
    statuses = Counter(e.status for e in demo_data.generate(REGION))
    assert statuses["published"] > 200
    for status in ("pending", "rejected", "draft", "archived"):
        assert statuses[status] > 0, status


def test_points_lie_near_their_postal_code_in_their_municipality():
    for employer in demo_data.generate(REGION):
        municipality, postal_code = REGION.postal_code(employer.postal_code)
        assert municipality.ags == employer.municipality_ags
        assert employer.town == municipality.name
        assert distance_km(postal_code.lon, postal_code.lat, employer.lon, employer.lat) < 5


def test_codes_exist_in_the_shipped_taxonomies():
    wz = {d["code"] for s in read_data_file("wz2008.json")["sections"] for d in s["divisions"]}
    kldb = {g["code"] for a in read_data_file("kldb2010.json")["areas"] for g in a["groups"]}
    family = {c["key"] for c in read_data_file("family_criteria.json")["criteria"]}
    for employer in demo_data.generate(REGION):
        assert set(employer.sectors) <= wz
        assert set(employer.occupations) <= kldb
        assert set(employer.family) <= family


def test_contact_data_is_fictional():
    for employer in demo_data.generate(REGION):
        assert employer.email.endswith(".example")
        assert employer.contact_email.endswith(".example")
        assert not employer.website or employer.website.endswith(".example")
        assert employer.phone.startswith("030 23125 ")


def test_slugify_handles_umlauts_and_sharp_s():
    assert slugify("Bäckerei Öztürk & Söhne, Straße 1") == ("baeckerei-oeztuerk-soehne-strasse-1")
