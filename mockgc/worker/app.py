"""The worker's HTTP face (Flask): POST /webhook (signed deliveries only) answers at once; GET /repairs and /status report.

Every refusal is the platform's JSON error body, rendered by the platform's own handlers
(mockgc/platform/http/errors.py): 401 unsigned, badly signed or stale; 400 not JSON, too deep, the
wrong shape, or an unknown business unit or operation; 409 an operation not Complete; 413 too big;
415 not JSON's media type; 429 with Retry-After when the queue is full; 503 the platform or the store
is unavailable. Never a 500 page for what a client sent.
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from mockgc.platform.domain.errors import ServiceUnavailable, UnsupportedMediaType
from mockgc.platform.http.errors import register_error_handlers
from mockgc.stores import StoreError
from mockgc.worker.service import WorkerService

MAX_BODY_BYTES = 512_000


def create_worker_app(service: WorkerService) -> Flask:
    app = Flask("mockgc.worker")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["mockgc.worker"] = service
    register_error_handlers(app)

    @app.post("/webhook")
    def webhook() -> ResponseReturnValue:
        # Acknowledge well inside the sender's 30 s: the repair happens on the job thread.
        if request.mimetype != "application/json":
            raise UnsupportedMediaType()
        event, job = service.receive(request.get_data(), request.headers)
        return jsonify(accepted=job is not None, operationId=event and event.operation_id), 202

    @app.get("/repairs")
    def repairs() -> ResponseReturnValue:
        try:
            found = service.worker.repaired()
        except StoreError as error:
            raise ServiceUnavailable(f"the worker's store is unavailable: {error}") from None
        return jsonify(repairs=found, count=len(found))

    @app.get("/status")
    def status() -> ResponseReturnValue:
        return jsonify(service.status())

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify(ok=True)

    return app
