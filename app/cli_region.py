"""``flask region``: make a region file from official municipality boundaries."""

from __future__ import annotations

from pathlib import Path

import click

from geodata.region_builder import RegionBuildError, build_region, write_region
from geodata.regions import REGION_FILE, REGIONS_DIR, RegionError, load_region


@click.group("region")
def region_group():
    """Region definitions (municipalities, map view, outline, theme)."""


@region_group.command("create")
@click.option(
    "--boundaries",
    "boundaries_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Municipality polygons: GeoJSON, GeoPackage or zipped Shapefile (e.g. VG250).",
)
@click.option("--ags-prefix", required=True, help="Keep the municipalities whose AGS starts so.")
@click.option("--name", required=True, help='The region\'s name, e.g. "Kreis Soest".')
@click.option("--key", default=None, help="The region's key (default: from the name).")
@click.option("--name-en", default=None, help="The English name (default: the name).")
@click.option(
    "--postal-codes",
    "postal_codes_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="Postal-code points (CSV, GeoJSON, GeoPackage, Shapefile) to assign by polygon.",
)
@click.option("--code-column", default="plz", show_default=True, help="Postal-code column.")
@click.option(
    "--postal-codes-crs",
    default=None,
    help="CRS of the postal-code points if the file names none (a CSV: default EPSG:4326).",
)
@click.option("--crs", default=None, help="CRS of the boundary file if it names none.")
@click.option("--ags-column", default=None, help="Column with the AGS (found by name if not).")
@click.option(
    "--output",
    default=None,
    type=click.Path(dir_okay=False),
    help="Where to write (default: geodata/regions/<key>/region.json).",
)
@click.option("--force", is_flag=True, help="Replace an existing file.")
def create_command(
    boundaries_path: str,
    ags_prefix: str,
    name: str,
    key: str | None,
    name_en: str | None,
    postal_codes_path: str | None,
    code_column: str,
    postal_codes_crs: str | None,
    crs: str | None,
    ags_column: str | None,
    output: str | None,
    force: bool,
):
    """Write a region file from municipality boundaries in any CRS: municipalities, centroids,
    postal codes (optional point file), outline and map view. Needs no database."""
    try:
        report = build_region(
            boundaries_path,
            ags_prefix=ags_prefix,
            name=name,
            key=key,
            name_en=name_en,
            postal_codes=postal_codes_path,
            postal_code_column=code_column,
            postal_codes_crs=postal_codes_crs,
            crs=crs,
            ags_column=ags_column,
        )
        key = report.region["key"]
        path = Path(output) if output else REGIONS_DIR / key.replace("-", "_") / REGION_FILE
        write_region(report.region, path, overwrite=force)
        load_region(str(path))
    except (RegionBuildError, RegionError) as exc:
        raise click.ClickException(f"{exc} No region file was written.") from None
    for line in report.lines():
        click.echo(line)
    click.echo(
        f"Wrote {path}. Add the theme (colours, logo, contact details) and start it with "
        f"REGION={path if output else key}."
    )
