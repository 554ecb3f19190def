"""Notifications API: channels and topic subscriptions; messages arrive on the channel's WebSocket."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from mockgc.platform.domain.errors import BadRequest, InvalidValue
from mockgc.platform.domain.notifications import NotificationHub, Subscribed
from mockgc.platform.domain.topics import TOPICS
from mockgc.platform.http.body import json_body
from mockgc.platform.http.events_runtime import events_runtime

bp = Blueprint("notifications", __name__, url_prefix="/api/v2/notifications")


def hub() -> NotificationHub:
    return events_runtime(current_app).hub


def owner() -> str:
    return str(request.client_id)  # set by the app's authentication hook


def parse_topics(body: Any) -> list[str]:
    if not isinstance(body, list):
        raise BadRequest('The body must be a list of topics: [{"id": "v2.users.{id}.presence"}]')
    topics: list[str] = []
    for item in body:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise BadRequest('Each subscription must be an object with the topic as "id"')
        topics.append(item["id"])
    return topics


def parse_ignore_errors() -> bool:
    """The `ignoreErrors` query flag: reject bad topics one by one instead of refusing the request."""
    value = request.args.get("ignoreErrors", "false").lower()
    if value not in ("true", "false"):
        raise InvalidValue("ignoreErrors must be true or false", details=[{"fieldName": "ignoreErrors"}])
    return value == "true"


@bp.get("/availabletopics")
def available_topics() -> ResponseReturnValue:
    return jsonify(entities=[{"id": t.template, "description": t.description} for t in TOPICS])


@bp.post("/channels")
def create_channel() -> ResponseReturnValue:
    notifications = hub()
    return jsonify(notifications.channel_to_api(notifications.create_channel(owner())))


@bp.get("/channels")
def list_channels() -> ResponseReturnValue:
    notifications = hub()
    return jsonify(entities=[notifications.channel_to_api(c) for c in notifications.list_channels(owner())])


@bp.route("/channels/<channel_id>", methods=["HEAD"])
def channel_exists(channel_id: str) -> ResponseReturnValue:
    hub().channel(channel_id, owner())
    return "", 200


@bp.get("/channels/<channel_id>/subscriptions")
def get_subscriptions(channel_id: str) -> ResponseReturnValue:
    return jsonify(entities=_topics_to_api(hub().subscriptions(channel_id, owner())))


@bp.post("/channels/<channel_id>/subscriptions")
def add_subscriptions(channel_id: str) -> ResponseReturnValue:
    topics, ignore_errors = parse_topics(json_body()), parse_ignore_errors()
    return jsonify(
        entities=_subscribed_to_api(
            hub().subscribe(channel_id, owner(), topics, replace=False, ignore_errors=ignore_errors), ignore_errors
        )
    )


@bp.put("/channels/<channel_id>/subscriptions")
def replace_subscriptions(channel_id: str) -> ResponseReturnValue:
    topics, ignore_errors = parse_topics(json_body()), parse_ignore_errors()
    return jsonify(
        entities=_subscribed_to_api(
            hub().subscribe(channel_id, owner(), topics, replace=True, ignore_errors=ignore_errors), ignore_errors
        )
    )


@bp.delete("/channels/<channel_id>/subscriptions")
def delete_subscriptions(channel_id: str) -> ResponseReturnValue:
    hub().unsubscribe_all(channel_id, owner())
    return "", 204


def _topics_to_api(topics: list[str]) -> list[dict[str, str]]:
    return [{"id": topic} for topic in topics]


def _subscribed_to_api(subscribed: Subscribed, ignore_errors: bool) -> list[dict[str, str]]:
    """With ignoreErrors each topic says its state, and the rejected ones why (the SDK's ChannelTopic)."""
    if not ignore_errors:
        return _topics_to_api(subscribed.topics)
    return [{"id": topic, "state": "Permitted"} for topic in subscribed.topics] + [
        {"id": v.topic, "state": "Rejected", "rejectionReason": str(v.rejection)} for v in subscribed.rejected
    ]
