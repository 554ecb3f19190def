"""`mockgc openapi`: the mock's OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import click

from mockgc.cli.options import (
    HarnessError,
    console,
)


@click.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the document to this file instead of standard output.",
)
def openapi(output: Path | None) -> None:
    """The mock's OpenAPI 3.1 document (every route, tagged real or mock-only), as the mock serves it
    at /api/v2/docs/openapi.json. Generate a client with any OpenAPI generator from it."""
    import json

    from mockgc.platform.api.openapi import document

    text = json.dumps(document(), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text)
    except OSError as error:
        raise HarnessError(f"cannot write {output}: {error.strerror or error}") from None
    console.print(f"wrote {output} ({len(document()['paths'])} paths)")
