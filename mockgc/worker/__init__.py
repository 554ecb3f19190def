"""The `mockgc worker` service: receives publish webhooks and re-applies script variables once publishes settle."""
