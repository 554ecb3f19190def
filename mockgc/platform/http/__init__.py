"""The platform's HTTP face: thin Flask blueprints over the domain."""
