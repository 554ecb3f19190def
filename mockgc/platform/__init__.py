"""The mock Genesys Cloud platform: a Flask-free domain and thin HTTP blueprints over it."""
