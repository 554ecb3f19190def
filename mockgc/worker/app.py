"""The worker's HTTP face (Flask): POST /webhook answers 202 at once; GET /repairs and /status report."""

from __future__ import annotations

import json

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from mockgc.worker.service import WorkerService

MAX_BODY_BYTES = 512_000


def create_worker_app(service: WorkerService) -> Flask:
    app = Flask("mockgc.worker")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["mockgc.worker"] = service

    @app.post("/webhook")
    def webhook() -> ResponseReturnValue:
        # Acknowledge well inside the sender's 30 s: the work happens on the job thread.
        try:
            message = json.loads(request.get_data() or b"null")
        except ValueError:
            return jsonify(error="the body must be JSON"), 400
        if not isinstance(message, dict):
            return jsonify(error="the body must be a JSON object"), 400
        job = service.submit(message)
        body = message.get("eventBody") if isinstance(message.get("eventBody"), dict) else {}
        return jsonify(accepted=job is not None, operationId=body.get("operationId")), 202

    @app.get("/repairs")
    def repairs() -> ResponseReturnValue:
        found = service.worker.repaired()
        return jsonify(repairs=found, count=len(found))

    @app.get("/status")
    def status() -> ResponseReturnValue:
        return jsonify(service.status())

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify(ok=True)

    return app
