"""`mockgc worker`: the async worker as a service (what a live async-worker run starts)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from mockgc.cli.options import (
    HarnessError,
    bind_error,
    console,
)
from mockgc.flows.mitigations.async_worker import WorkerConfig
from mockgc.spec.runspec import RunSpec
from mockgc.strategies.plans import plan

WORKER_DEFAULTS = WorkerConfig()


@click.command()
@click.option("--target", required=True, envvar="MOCKGC_TARGET", help="Base URL of the mock (or a platform) to repair.")
@click.option("--client-id", required=True, envvar="MOCKGC_CLIENT_ID", help="OAuth client id for the worker's token.")
@click.option("--client-secret", required=True, envvar="MOCKGC_CLIENT_SECRET", help="OAuth client secret.")
@click.option(
    "--store",
    "store_url",
    default="sqlite:///mockgc-worker.db",
    show_default=True,
    envvar="MOCKGC_STORE",
    help="Where the flows record intents: sqlite:///file.db, redis://host:port/db.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=8322, show_default=True, help="Port (0 picks a free one).")
@click.option("--port-file", type=click.Path(dir_okay=False, path_type=Path), help="Write the bound port here.")
@click.option(
    "--spec",
    "spec_json",
    envvar="MOCKGC_SPEC",
    help="The run's spec as JSON (a live run passes it): the async-worker strategy's parameters configure the worker.",
)
@click.option("--namespace", help=f"Key namespace shared with the flows.  [default: {WORKER_DEFAULTS.namespace}]")
@click.option(
    "--chunk-size", type=int, help=f"Updates per script-data request.  [default: {WORKER_DEFAULTS.chunk_size}]"
)
@click.option(
    "--rate-limit",
    "rate_limit_per_minute",
    type=int,
    help=f"Requests per minute to pace at; 0 = off.  [default: {WORKER_DEFAULTS.rate_limit_per_minute}]",
)
@click.option(
    "--settle-seconds", type=float, help=f"Wait after the last publish.  [default: {WORKER_DEFAULTS.settle_seconds:g}]"
)
@click.option(
    "--margin-seconds", type=float, help=f"Writes this early count too.  [default: {WORKER_DEFAULTS.margin_seconds:g}]"
)
def worker(
    target: str,
    client_id: str,
    client_secret: str,
    store_url: str,
    host: str,
    port: int,
    port_file: Path | None,
    spec_json: str | None,
    **overrides: Any,
) -> None:
    """Run the async worker: publish webhooks in, chunked PUT /api/v2/analytics/script-data out."""
    from dataclasses import replace

    from mockgc.flows.mitigations.async_worker import AsyncWorker
    from mockgc.stores import StoreError
    from mockgc.worker.main import serve_worker

    try:
        config = WORKER_DEFAULTS
        if spec_json:
            strategy = plan(RunSpec.from_json(spec_json, source="--spec")).strategy
            if not isinstance(strategy, AsyncWorker):
                raise ValueError(f"the spec runs {strategy.label()}, not async-worker: it configures no worker")
            config = strategy.worker_config()
        config = replace(config, **{k: v for k, v in overrides.items() if v is not None}).validate()
        serve_worker(
            target=target,
            client_id=client_id,
            client_secret=client_secret,
            store_url=store_url,
            config=config,
            host=host,
            port=port,
            port_file=port_file,
            announce=lambda line: (console.print(line), sys.stdout.flush()),
        )
    except OSError as error:
        raise HarnessError(bind_error(error, host, port)) from None
    except (ValueError, StoreError, PermissionError) as error:
        raise HarnessError(str(error)) from None
