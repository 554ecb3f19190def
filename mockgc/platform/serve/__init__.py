"""Serving: the HTTP server thread (granian, for the mock and the worker) and the notifications WebSocket server."""
